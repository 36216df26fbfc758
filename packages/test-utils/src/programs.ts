import { execFileSync, spawnSync } from "node:child_process";

export interface ProgramLookup {
  /** Absolute path of the program, when found or installed. */
  path?: string;
  /** Why it is missing; tests pass this to `skipIf` and print it. */
  skipReason?: string;
}

function which(name: string): string | undefined {
  const result = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" });
  const found = result.stdout.trim();
  return result.status === 0 && found ? found : undefined;
}

const attempted = new Set<string>();

/**
 * Finds a system program; when missing and running as root, installs its Debian package.
 * Where neither works it returns a skip reason and prints a visible notice, except under
 * `CI=true`, where a missing program throws so the run fails.
 */
export function findProgram(name: string, debianPackage = name): ProgramLookup {
  let path = which(name);
  if (!path && process.getuid?.() === 0 && which("apt-get") && !attempted.has(debianPackage)) {
    attempted.add(debianPackage);
    try {
      execFileSync(
        "sh",
        [
          "-c",
          `apt-get install -y -q -o DPkg::Lock::Timeout=600 ${debianPackage} || (apt-get update -q -o DPkg::Lock::Timeout=600 && apt-get install -y -q -o DPkg::Lock::Timeout=600 ${debianPackage})`,
        ],
        {
          stdio: "ignore",
          timeout: 600_000,
          env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
        },
      );
    } catch {
      // Reported below as missing.
    }
    path = which(name);
  }
  if (path) return { path };
  const skipReason = `${name} not found and could not be installed (Debian package ${debianPackage})`;
  if (process.env.CI === "true") throw new Error(`${skipReason}; CI=true requires it.`);
  console.warn(`\n*** SKIPPING tests that need ${name}: ${skipReason} ***\n`);
  return { skipReason };
}
