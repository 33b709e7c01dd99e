/** Unit tests sit beside the code they test; integration tests create real hosts and live under test/. */
const tsJest = ["ts-jest", { tsconfig: "tsconfig.json" }];
module.exports = {
  // Removes what earlier killed runs left behind and starts this run's watchdog (test/support/watchdog.sh).
  globalSetup: "<rootDir>/test/support/global-setup.ts",
  // Per-file durations: printed at the end, or handed to .ci/run's timing summary.
  reporters: ["default", "<rootDir>/test/support/timings.mjs"],
  projects: [
    {
      displayName: "unit",
      testEnvironment: "node",
      roots: ["<rootDir>/components", "<rootDir>/stacks", "<rootDir>/playbooks", "<rootDir>/test/unit"],
      testMatch: ["**/*.test.ts"],
      transform: { "^.+\\.ts$": tsJest },
    },
    {
      displayName: "integration",
      testEnvironment: "node",
      roots: ["<rootDir>/test/integration"],
      testMatch: ["**/*.test.ts"],
      transform: { "^.+\\.ts$": tsJest },
      // Real hosts boot guests under TCG: minutes, not seconds; every wait inside is bounded.
      setupFilesAfterEnv: ["<rootDir>/test/support/integration-timeout.ts"],
    },
    {
      // Faults injected mid-deployment on a guest host (npm run test:faults): ~15 min, not in CI.
      displayName: "faults",
      testEnvironment: "node",
      roots: ["<rootDir>/test/faults"],
      testMatch: ["**/*.test.ts"],
      transform: { "^.+\\.ts$": tsJest },
      setupFilesAfterEnv: ["<rootDir>/test/support/integration-timeout.ts"],
    },
    {
      // The real netmap and QEMU, given by a developer (npm run test:real): never in CI.
      displayName: "real",
      testEnvironment: "node",
      roots: ["<rootDir>/test/real"],
      testMatch: ["**/*.test.ts"],
      transform: { "^.+\\.ts$": tsJest },
      setupFilesAfterEnv: ["<rootDir>/test/support/integration-timeout.ts"],
    },
  ],
};
