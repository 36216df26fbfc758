import type { AddressInfo } from "node:net";
import { pathToFileURL } from "node:url";
import type { HttpBenchCase } from "./harness.js";

// Child process: builds one variant of a bench case and serves it on a free loopback port.
const [file, variant] = process.argv.slice(2);
const bench = (await import(pathToFileURL(file!).href)).default as HttpBenchCase;
const factory = bench.variants[variant!];
if (!factory) throw new Error(`no variant ${variant} in ${file}`);
const app = await factory();
const server = app.listen(0, "127.0.0.1", () => {
  process.send?.({ port: (server.address() as AddressInfo).port });
});
process.on("disconnect", () => process.exit(0));
