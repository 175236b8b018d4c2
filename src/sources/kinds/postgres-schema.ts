/** The `postgres` source type's schema piece (postgres.ts), loaded with zod only when needed. */
import { z } from '../../zod-configured.js';

const tlsFile = (what: string) => z.string().min(1).optional().meta({ description: `${what} (PEM file; relative to the plan).` });

/** The schema piece of a `postgres` source. */
export const postgresSchema = {
  url: z.string().min(1).meta({ description: 'postgres://user:password@host:port/db; write it as ${VAR}, the password is a secret.' }),
  ssl: z
    .union([
      z.boolean(),
      z.strictObject({
        rejectUnauthorized: z.boolean().optional().meta({ description: 'Check the server certificate (default true).' }),
        ca: tlsFile('CA certificates to trust'),
        cert: tlsFile('Client certificate'),
        key: tlsFile('Client private key'),
        servername: z.string().min(1).optional().meta({ description: 'Name to check the server certificate against.' }),
      }),
    ])
    .optional()
    .meta({ description: "TLS as the pg driver takes it (true, false or options); an sslmode in the URL takes precedence." }),
};
