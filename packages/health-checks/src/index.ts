export {
  type DiskSpaceCheckOptions,
  diskSpaceCheck,
  type EventLoopDelayCheckOptions,
  eventLoopDelayCheck,
  type MemoryCheckOptions,
  memoryCheck,
  type PingCheckOptions,
  pingCheck,
} from "./builtins.js";
export { type HealthCheckBody, type HealthChecks, type HealthReport, healthChecks } from "./health-checks.js";
export { type Lifecycle, lifecycle } from "./lifecycle.js";
export {
  type CheckFunction,
  type CheckOptions,
  type CheckOutcome,
  type CheckResult,
  COMPONENT_TYPES,
  type ComponentType,
  type EventSink,
  HEALTH_STATUSES,
  type HealthChecksOptions,
  type HealthStatus,
  LIFECYCLE_STATES,
  type LifecycleOptions,
  type LifecycleState,
  type LifecycleTarget,
  type PerformanceSource,
  SHUTDOWN_SIGNALS,
  type ShutdownSignal,
  type VersionInfo,
} from "./options.js";
