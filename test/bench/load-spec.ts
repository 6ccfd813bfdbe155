/** One load run for the load child: where, how hard, how long. */
export interface LoadSpec {
  readonly url: string;
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly connections: number;
  readonly durationSeconds: number;
}

/** What one load run measured, as seen by the load generator. */
export interface LoadSummary {
  /** Responses received (any status). */
  readonly completed: number;
  /** Requests sent. */
  readonly sent: number;
  /** 2xx responses. */
  readonly ok: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly resets: number;
  /** Responses per HTTP status code. */
  readonly statusCodes: Readonly<Record<string, number>>;
  /** Elapsed seconds of the run. */
  readonly elapsedSeconds: number;
  /** Latency percentiles in milliseconds, sub-millisecond resolution. */
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** Why a load run is not clean (non-2xx, errors, timeouts, resets), or undefined when every response was 2xx. */
export function loadProblems(summary: LoadSummary): string | undefined {
  const failures = summary.completed - summary.ok;
  if (failures === 0 && summary.errors === 0 && summary.timeouts === 0 && summary.resets === 0 && summary.completed > 0) {
    return undefined;
  }
  return (
    `${summary.completed} responses, ${summary.ok} 2xx, ${summary.non2xx} non-2xx ` +
    `(status codes ${JSON.stringify(summary.statusCodes)}), ${summary.errors} errors, ` +
    `${summary.timeouts} timeouts, ${summary.resets} resets`
  );
}
