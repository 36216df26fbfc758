import { describe, expect, it } from "vitest";
import { inspectUpload } from "./upload.js";

const rules = (upload: Parameters<typeof inspectUpload>[0]) => inspectUpload(upload).map((f) => f.rule);
const PNG = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

describe("inspectUpload()", () => {
  it("accepts an ordinary image", () => {
    expect(inspectUpload({ filename: "haircut (1).png", mimeType: "image/png", firstBytes: PNG })).toEqual([]);
  });

  it.each([
    ["../../etc/passwd", "upload.traversal"],
    ["..%2f..%2fshell.png", "upload.traversal"],
    ["C:\\temp\\a.png", "upload.path-component"],
    ["shell.php", "upload.executable-extension"],
    ["shell.php.jpg", "upload.double-extension"],
    ["shell.php;.jpg", "upload.double-extension"],
    ["image.svg", "upload.executable-extension"],
    ["a\u0000.png", "upload.control-character"],
  ])("flags %j with %s", (filename, rule) => {
    expect(rules({ filename })).toContain(rule);
  });

  it("flags executable declared types and content that contradicts the declared type", () => {
    expect(rules({ filename: "a.png", mimeType: "application/x-php" })).toContain("upload.executable-type");
    expect(
      rules({ filename: "a.png", mimeType: "image/png", firstBytes: Buffer.from("<?php system($_GET[1]);") }),
    ).toEqual(["upload.executable-content", "upload.type-mismatch"]);
    expect(rules({ filename: "a.jpg", mimeType: "image/jpeg", firstBytes: Buffer.from("MZ\x90\x00") })).toContain(
      "upload.executable-content",
    );
  });

  it("throws on an unknown field", () => {
    expect(() => inspectUpload({ filename: "a", mimetype: "x" } as never)).toThrow(
      "inspectUpload: unknown option `mimetype`. Did you mean `mimeType`?",
    );
  });
});
