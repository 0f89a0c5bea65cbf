/**
 * The import boundaries of `eslint.config.js` hold: features never import
 * each other, shared modules never import a page or the app. (`npm run lint`
 * applies them to the code; this checks that the rules catch a breach.)
 */
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

// Loading the config and its plugins takes seconds on a busy machine: one
// linter for every test, and a generous deadline (only against a hang).
const eslint = new ESLint();
const DEADLINE_MS = 120_000;

async function boundaryErrors(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return result.messages
    .filter((m) => m.ruleId === 'import-x/no-restricted-paths')
    .map((m) => m.message);
}

describe('the import boundaries', { timeout: DEADLINE_MS }, () => {
  it('refuse a feature importing another feature', async () => {
    const errors = await boundaryErrors('src/pages/dashboard/Breach.tsx',
      "import OperationDetailPage from '../operation/OperationDetailPage';\nexport const page = OperationDetailPage;\n");
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('features never import each other');
  });

  it('refuse a shared module importing a page or the app', async () => {
    const page = await boundaryErrors('src/components/Breach.tsx',
      "import { DashboardPage } from '../pages/dashboard/DashboardPage';\nexport const page = DashboardPage;\n");
    const app = await boundaryErrors('src/api/breach.ts',
      "import { AppProviders } from '../App';\nexport const providers = AppProviders;\n");
    expect([...page, ...app]).toHaveLength(2);
  });

  it('let a feature import shared modules and its own files', async () => {
    const errors = await boundaryErrors('src/pages/dashboard/Fine.tsx',
      "import { Section } from '../../components/Section';\nimport { SystemStatus } from './SystemStatus';\n" +
      'export const parts = [Section, SystemStatus];\n');
    expect(errors).toEqual([]);
  });
});
