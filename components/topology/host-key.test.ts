import { checkHostKey, embeddedKeyType, HOST_KEY_TYPES } from "./host-key";

/** An SSH public key line whose blob starts with `blobType` (RFC 4253 string encoding). */
function keyLine(type: string, blobType = type, comment = ""): string {
  const name = Buffer.from(blobType);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(name.length);
  const blob = Buffer.concat([length, name, Buffer.alloc(32, 7)]);
  return `${type} ${blob.toString("base64")}${comment ? ` ${comment}` : ""}`;
}

describe("host keys", () => {
  it.each(HOST_KEY_TYPES)("accepts %s keys, with or without comment", (type) => {
    expect(checkHostKey(keyLine(type))).toBeUndefined();
    expect(checkHostKey(keyLine(type, type, "root@h1"))).toBeUndefined();
  });

  it("rejects unsupported types", () => {
    expect(checkHostKey(keyLine("ssh-dss"))).toContain('type "ssh-dss" is not supported');
  });

  it("rejects a blob of another type than the line says", () => {
    expect(checkHostKey(keyLine("ssh-rsa", "ssh-ed25519"))).toContain('its data is a "ssh-ed25519" key');
  });

  it("rejects bad base64, truncated blobs and missing data", () => {
    expect(checkHostKey("ssh-ed25519 not*base64")).toContain("not valid base64");
    expect(checkHostKey("ssh-ed25519 AAAA")).toContain("not an SSH public key");
    expect(checkHostKey("ssh-ed25519")).toContain("TYPE BASE64");
  });

  it("reads the embedded type", () => {
    const blob = Buffer.from(keyLine("ssh-ed25519").split(" ")[1], "base64");
    expect(embeddedKeyType(blob)).toBe("ssh-ed25519");
    expect(embeddedKeyType(Buffer.from([0, 0, 0, 99, 1]))).toBeUndefined();
  });
});
