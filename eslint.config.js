// Type-aware, strict: typescript-eslint's strictTypeChecked, with three of its options set the way
// this code base reads. `npm test` runs it with --max-warnings 0.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // bin/ and the worker's loader are three-line JavaScript shims that only import TypeScript; the
  // test runner's skip reporter (scripts/) is JavaScript because node loads it before tsx's hooks.
  { ignores: ['node_modules/', 'tools/', 'runs/', '**/*.js'] },
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // Numbers and booleans print as themselves in messages and labels.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      // `(x) => void f(x)` and `() => list.push(x)` are callbacks, not values.
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true }],
      // node:test runs the promises `it` and `describe` return; nothing is left floating.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            {
              from: 'package',
              package: 'node:test',
              name: ['it', 'describe', 'test', 'before', 'after', 'beforeEach', 'afterEach'],
            },
          ],
        },
      ],
    },
  },
  {
    // In a test, a value the test just asserted on is there; a `!` after the assertion says so.
    files: ['**/*.test.ts', 'test/**', '**/*-suite.ts', 'faults/recording-world.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
);
