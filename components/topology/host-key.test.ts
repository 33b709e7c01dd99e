import { utils } from "ssh2";
import { checkHostKey, embeddedKeyType, HOST_KEY_TYPES } from "./host-key";

/** A real public key line of each supported type, as ssh-keygen would write it. */
function realKey(type: (typeof HOST_KEY_TYPES)[number]): string {
  const made =
    type === "ssh-ed25519"
      ? utils.generateKeyPairSync("ed25519")
      : type === "ssh-rsa"
        ? utils.generateKeyPairSync("rsa", { bits: 2048 })
        : utils.generateKeyPairSync("ecdsa", { bits: Number(type.slice(-3)) as 256 | 384 | 521 });
  return made.public.trim().split(/\s+/).slice(0, 2).join(" ");
}

/** An SSH public key line whose blob is `blobType` followed by 32 bytes (RFC 4253 string encoding). */
function keyLine(type: string, blobType = type): string {
  const name = Buffer.from(blobType);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(name.length);
  const key = Buffer.alloc(4);
  key.writeUInt32BE(32);
  const blob = Buffer.concat([length, name, key, Buffer.alloc(32, 7)]);
  return `${type} ${blob.toString("base64")}`;
}

describe("host keys", () => {
  it.each(HOST_KEY_TYPES)("accepts real %s keys, with or without comment", (type) => {
    const line = realKey(type);
    expect(line.split(" ")[0]).toBe(type);
    expect(checkHostKey(line)).toBeUndefined();
    expect(checkHostKey(`${line} root@h1`)).toBeUndefined();
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

  it.each(HOST_KEY_TYPES)("rejects a %s key cut at a base64 boundary, which still decodes", (type) => {
    const [, data] = realKey(type).split(" ");
    for (const keep of [48, data.length - 4]) {
      const cut = `${type} ${data.slice(0, keep)}`;
      expect(checkHostKey(cut)).toMatch(new RegExp(`not a complete ${type} key .*truncated\\?`));
    }
  });

  it("rejects a blob with bytes after the key or a key of the wrong size", () => {
    const [type, data] = realKey("ssh-ed25519").split(" ");
    const longer = Buffer.concat([Buffer.from(data, "base64"), Buffer.from([0, 0, 0, 1, 9])]);
    expect(checkHostKey(`${type} ${longer.toString("base64")}`)).toContain("an ed25519 key is 32 bytes");
    expect(checkHostKey(keyLine("ecdsa-sha2-nistp256"))).toContain("names its curve nistp256");
  });

  it("reads the embedded type", () => {
    const blob = Buffer.from(keyLine("ssh-ed25519").split(" ")[1], "base64");
    expect(embeddedKeyType(blob)).toBe("ssh-ed25519");
    expect(embeddedKeyType(Buffer.from([0, 0, 0, 99, 1]))).toBeUndefined();
  });
});
