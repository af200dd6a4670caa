/**
 * Wall and CPU seconds per named stage of a workflow, accumulated over repeated calls of the same stage;
 * the tables that `lodi sample-halos` and `lodi reionize` print and save.
 */
export interface StageTimer {
  wall: Record<string, number>;
  cpu: Record<string, number>;
  /** Runs `fn`, adds its wall and CPU (user + system) seconds to `name`, then calls `onStage(name)`. */
  stage<T>(name: string, fn: () => T | Promise<T>): Promise<T>;
}

export function stageTimer(onStage?: (name: string) => void): StageTimer {
  const wall: Record<string, number> = {};
  const cpu: Record<string, number> = {};
  const stage = async <T>(name: string, fn: () => T | Promise<T>): Promise<T> => {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const r = await fn();
    const c = process.cpuUsage(c0);
    wall[name] = (wall[name] ?? 0) + (performance.now() - t0) / 1000;
    cpu[name] = (cpu[name] ?? 0) + (c.user + c.system) / 1e6;
    onStage?.(name);
    return r;
  };
  return { wall, cpu, stage };
}
