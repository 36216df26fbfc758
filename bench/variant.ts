import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";

const serve = fileURLToPath(new URL("./serve.ts", import.meta.url));

/** Starts one variant of an HTTP bench case in its own process; resolves once it listens. */
export function startVariant(file: string, variant: string): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    const child = fork(serve, [file, variant], {
      execArgv: ["--import", "tsx", "--conditions=@palisade/source"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
      env: { ...process.env, NODE_ENV: "production" },
    });
    child.once("message", (message) => resolve({ child, port: (message as { port: number }).port }));
    child.once("exit", (code) => reject(new Error(`variant ${variant} exited with ${code}`)));
  });
}
