import { checkAddress, checkUser, isDnsName } from "./network";

describe("host addresses", () => {
  it.each(["192.0.2.11", "2001:db8::11", "h1", "h1.lab.example", "h1.lab.example."])(
    "accepts %s",
    (address) => {
      expect(checkAddress(address)).toBeUndefined();
    },
  );

  it("explains common mistakes", () => {
    expect(checkAddress("root@192.0.2.11")).toContain("put the user in user:");
    expect(checkAddress("h1:2222")).toContain("put the port in port:");
    expect(checkAddress("192.0.2.300")).toContain("not an IPv4 address");
    expect(checkAddress("-h1")).toBeDefined();
    expect(isDnsName("a".repeat(64))).toBe(false);
  });

  it("checks login names", () => {
    expect(checkUser("root")).toBeUndefined();
    expect(checkUser("lab_user-2")).toBeUndefined();
    expect(checkUser("Admin")).toBeDefined();
    expect(checkUser("2user")).toBeDefined();
  });
});
