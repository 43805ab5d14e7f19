import { defineConfig } from 'vitest/config';
import { playwright } from '@vitest/browser-playwright';
import { nodeForward, nodeGraphTrain, nodeTrain } from './test/browser/node-commands';

// Two projects: `node` (kernels, cells, oracles) and `browser` (real Debian Chromium, the same binary).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'node',
          testTimeout: 120_000,
          hookTimeout: 120_000,
          environment: 'node',
          include: ['test/**/*.test.ts'],
          exclude: ['test/browser/**'],
          setupFiles: ['test/setup-node.ts'],
          pool: 'forks',
        },
      },
      {
        test: {
          name: 'browser',
          testTimeout: 120_000,
          hookTimeout: 120_000,
          include: ['test/browser/**/*.test.ts'],
          browser: {
            enabled: true,
            headless: true,
            provider: playwright({
              launchOptions: {
                executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
                args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
                  '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
              },
            }),
            instances: [{ browser: 'chromium' }],
            commands: { nodeForward, nodeTrain, nodeGraphTrain },
          },
        },
      },
    ],
  },
});
