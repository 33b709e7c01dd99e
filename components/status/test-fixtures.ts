/**
 * TEMPORARY re-export: the status test builders moved to test/support/status-test-fixtures.ts.
 * Only components/cli/status-command.test.ts (edited elsewhere right now) still imports this
 * path; delete this file once it imports test/support/status-test-fixtures directly
 * (test/unit/test-code-boundary.test.ts lists it as the one pending exception until then).
 */
export { statusTopologyYaml, TEST_HOST_KEY } from "../../test/support/status-test-fixtures";
