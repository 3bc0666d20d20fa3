# Reads export files back with the readers people use, and prints what each reader saw as JSON:
#   /usr/bin/python3 tests/helpers/read-exports.py <kind> <file>
# kind: csv-module, pandas-csv, json-module, openpyxl, pandas-xlsx. Cells come back as
# {"rows": [[...], ...], "header": [...]}; NaN from pandas becomes null, other values their text.
import csv
import json
import math
import sys


def text(value):
    if value is None:
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if value == int(value) and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    return str(value)


kind, path = sys.argv[1], sys.argv[2]
if kind == "csv-module":
    with open(path, newline="", encoding="utf-8-sig") as handle:
        records = list(csv.reader(handle))
    result = {"header": records[0], "rows": records[1:]}
elif kind == "pandas-csv":
    import pandas

    frame = pandas.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8-sig")
    result = {"header": list(frame.columns), "rows": [[text(None if isinstance(v, float) else v) for v in row] for row in frame.itertuples(index=False)]}
elif kind == "json-module":
    with open(path, encoding="utf-8") as handle:
        document = json.load(handle)
    rows = document["rows"] if isinstance(document, dict) else document
    header = list(rows[0].keys()) if rows else []
    # Numbers as their exact text: the test reading this output parses JSON with doubles.
    def exact(value):
        if isinstance(value, bool) or value is None or isinstance(value, str):
            return value
        return str(value) if isinstance(value, int) else repr(value)

    result = {"header": header, "rows": [[exact(row[key]) for key in header] for row in rows]}
elif kind == "openpyxl":
    import openpyxl

    workbook = openpyxl.load_workbook(path, read_only=True)
    sheet = workbook.worksheets[0]
    records = [list(row) for row in sheet.iter_rows(values_only=True)]
    result = {"header": records[0], "rows": [[text(v) if not isinstance(v, str) else v for v in row] for row in records[1:]]}
elif kind == "pandas-xlsx":
    import pandas

    frame = pandas.read_excel(path, dtype=object, engine="openpyxl")
    result = {"header": list(frame.columns), "rows": [[text(v) if not isinstance(v, str) else v for v in row] for row in frame.itertuples(index=False)]}
else:
    raise SystemExit(f"unknown reader {kind}")
print(json.dumps(result, default=str))
