import { REDACTED, SecretScrubber } from "./secrets";

const KEY = [
  "-----BEGIN OPENSSH PRIVATE KEY-----",
  "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW",
  "QyNTUxOQAAACBH9DNatDatKLwPZbyNWj+ZjJr4dCR8lx/CfI1umMPLjQAAAJgAAAAAAAAA",
  "-----END OPENSSH PRIVATE KEY-----",
  "",
].join("\n");

describe("SecretScrubber", () => {
  const scrubber = new SecretScrubber([KEY, "hunter2-password", undefined, ""]);

  it("replaces a whole secret", () => {
    expect(scrubber.scrub(`auth failed with hunter2-password for root`)).toBe(
      `auth failed with ${REDACTED} for root`,
    );
    expect(scrubber.scrub(`key: ${KEY}`)).not.toContain("b3BlbnNzaC1rZXkt");
  });

  it("replaces single lines of a multi-line key", () => {
    const line = KEY.split("\n")[2];
    const scrubbed = scrubber.scrub(`cannot parse near ${line}`);
    expect(scrubbed).toBe(`cannot parse near ${REDACTED}`);
    expect(scrubber.contains(scrubbed)).toBe(false);
  });

  it("leaves harmless text and the PEM armour alone", () => {
    expect(scrubber.scrub("-----BEGIN OPENSSH PRIVATE KEY----- header only")).toBe(
      "-----BEGIN OPENSSH PRIVATE KEY----- header only",
    );
    expect(scrubber.scrub("nothing secret")).toBe("nothing secret");
  });
});
