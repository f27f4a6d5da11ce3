// Prisma CLI configuration (generate and migration authoring only: the server applies
// migrations itself, see src/db/migrate.ts).
// engine 'js' selects the WASM schema engine: Prisma's native engine is downloaded from a host
// these machines (and air-gapped deployments) cannot reach. Select the schema with
// PRISMA_PROVIDER=sqlite|postgresql (default sqlite).
import { defineConfig } from 'prisma/config';

const provider = process.env.PRISMA_PROVIDER === 'postgresql' ? 'postgresql' : 'sqlite';

export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: `prisma/${provider}/schema.prisma`,
  migrations: { path: `prisma/${provider}/migrations` },
  async adapter() {
    if (provider === 'postgresql') {
      const { PrismaPg } = await import('@prisma/adapter-pg');
      return new PrismaPg({ connectionString: process.env.DATABASE_URL ?? 'postgresql://127.0.0.1/govauth' });
    }
    const { PrismaLibSQL } = await import('@prisma/adapter-libsql');
    return new PrismaLibSQL({ url: process.env.DATABASE_URL ?? 'file:./data/govauth.db' });
  },
});
