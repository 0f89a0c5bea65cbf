// ESLint (flat config): TypeScript, the rules of hooks, and the dashboard's
// import boundaries. Layers, from the bottom up:
//   shared  src/api, src/auth, src/components, src/feed, src/format
//   features  src/pages/<feature>/ (and the single-file pages in src/pages)
//   app  src/App.tsx, src/routes.tsx, src/main.tsx
// (src/test, the tests' harness, may import any of them.)
// A layer imports only from the layers below it, and features never import
// each other (what two features share moves down to a shared module).
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const FEATURES = ['create', 'dashboard', 'operation', 'operations', 'settings'];
const SHARED = ['api', 'auth', 'components', 'feed', 'format'].map((dir) => `./src/${dir}`);
const APP = ['./src/App.tsx', './src/routes.tsx', './src/main.tsx'];

const boundaries = [
  ...FEATURES.map((feature) => ({
    target: `./src/pages/${feature}`,
    from: './src/pages',
    except: [`./${feature}`],
    message: 'features never import each other: move what they share to a shared module (src/components, src/api, ...)',
  })),
  {
    target: SHARED,
    from: ['./src/pages', ...APP],
    message: 'shared modules never import a page or the app',
  },
  {
    target: './src/pages',
    from: APP,
    message: 'pages never import the app shell',
  },
];

export default defineConfig(
  { ignores: ['dist', 'node_modules', 'src/api/schema.d.ts', 'e2e'] },
  {
    files: ['**/*.{ts,tsx}'],
    extends: [js.configs.recommended, tseslint.configs.recommended, reactHooks.configs.flat.recommended],
    languageOptions: { ecmaVersion: 2023, globals: globals.browser },
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.tsx', '.js', '.json'] })],
    },
    rules: {
      'import-x/no-restricted-paths': ['error', { zones: boundaries }],
      'import-x/no-cycle': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['vite.config.ts', 'eslint.config.js'],
    languageOptions: { globals: globals.node },
  },
);
