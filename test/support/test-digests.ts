/**
 * Digests for test topologies. Real ones (of the text "netmap-testbed test image"), because
 * validate refuses placeholders such as "a".repeat(64).
 */
export const TEST_SHA256 = "93dde582843d19dc2b9f4b6e7eddb6469de8a33e91e87a3c9fa32471541fab37";
export const TEST_SHA512 =
  "eb482183be85d227b071b41735d0ed9df3720b70388ddcd230bd6208df3339fc" +
  "14ccb166b24141d7ebafc2bdf3ece1b91d8b399e027c144e98e860d620241a0e";
