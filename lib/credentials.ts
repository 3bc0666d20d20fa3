import { z } from 'zod';

export const credentialsSchema = z.object({
  email: z.string().trim().toLowerCase().pipe(z.email('Enter a valid email address.')).pipe(z.string().max(254)),
  password: z
    .string()
    .min(8, 'Passwords have at least 8 characters.')
    .max(200, 'Passwords have at most 200 characters.'),
});
export type Credentials = z.infer<typeof credentialsSchema>;

export const signUpSchema = credentialsSchema.extend({
  name: z.string().trim().min(1, 'Enter your name.').max(100),
});
export type SignUp = z.infer<typeof signUpSchema>;
