export { createApp } from "./app.js";
export { CHROMIUM_ARGS, launchChromium } from "./browser.js";
export { type RecordedEntry, type RecordingLogger, recordingLogger } from "./logger.js";
export { freePort } from "./port.js";
export { findProgram, type ProgramLookup } from "./programs.js";
export { seededRandom } from "./random.js";
export { type RedisServer, startRedis } from "./redis.js";
export { type TempSqlite, tempDir, tempSqlite } from "./sqlite.js";
