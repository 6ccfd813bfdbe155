/** The terminal a progress bar draws on: a writable stream that may be a TTY. */
export interface ProgressOutput {
  /** Writes text. */
  write(text: string): unknown;
  /** Whether the stream is a terminal (only then is the bar drawn in place). */
  readonly isTTY?: boolean;
  /** The terminal's width in columns, when known. */
  readonly columns?: number;
}

/** Where a streaming call's progress, logs and partial content go while it runs. */
export interface ProgressReporter {
  /** The tool reported progress: `done` of `total` (total unknown: undefined), with a message. */
  progress(done: number, total: number | undefined, message: string): void;
  /** A line to keep (a log message, partial content): printed above the bar. */
  line(text: string): void;
  /** Removes the bar, leaving the kept lines; call before printing the result. */
  finish(): void;
}

/** Options of {@link createProgressReporter}. */
export interface ProgressReporterOptions {
  /** Width of the bar itself in characters (default 24). */
  readonly barWidth?: number;
}

// Erase the current line and go to its start: the bar is redrawn over itself.
const eraseLine = "\r\x1b[2K";

/**
 * A progress reporter for a streaming call. On a terminal it draws one bar line redrawn in place
 * (`[#########.......] 3/8  37%  step 3`), with log lines printed above it; anywhere else (a
 * pipe, a file, CI logs) every update is a plain line (`progress 3/8 step 3`), so nothing in the
 * output depends on cursor movement.
 */
export function createProgressReporter(out: ProgressOutput, options: ProgressReporterOptions = {}): ProgressReporter {
  if (out.isTTY !== true) {
    return {
      progress(done, total, message) {
        out.write(`progress ${formatNumber(done)}${total === undefined ? "" : `/${formatNumber(total)}`}${message === "" ? "" : ` ${message}`}\n`);
      },
      line(text) {
        out.write(`${text}\n`);
      },
      finish() {},
    };
  }
  const barWidth = options.barWidth ?? 24;
  let bar: string | undefined;
  const draw = () => {
    if (bar !== undefined) out.write(`${eraseLine}${bar}`);
  };
  return {
    progress(done, total, message) {
      bar = fit(renderBar(done, total, message, barWidth), out.columns);
      draw();
    },
    line(text) {
      out.write(`${bar === undefined ? "" : eraseLine}${text}\n`);
      draw();
    },
    finish() {
      if (bar !== undefined) out.write(eraseLine);
      bar = undefined;
    },
  };
}

/** The bar line: a filled bar and percentage when the total is known, else a count. */
export function renderBar(done: number, total: number | undefined, message: string, barWidth: number): string {
  const text = message === "" ? "" : `  ${message}`;
  if (total === undefined || !(total > 0)) return `[${"~".repeat(barWidth)}] ${formatNumber(done)}${text}`;
  const ratio = Math.min(1, Math.max(0, done / total));
  const filled = Math.round(ratio * barWidth);
  const percent = `${Math.floor(ratio * 100)}%`.padStart(4);
  return `[${"#".repeat(filled)}${".".repeat(barWidth - filled)}] ${formatNumber(done)}/${formatNumber(total)} ${percent}${text}`;
}

/** Cuts a line to the terminal's width, so redrawing never wraps onto a second line. */
function fit(line: string, columns: number | undefined): string {
  if (columns === undefined || columns <= 1) return line;
  const chars = [...line];
  return chars.length < columns ? line : `${chars.slice(0, columns - 2).join("")}…`;
}

function formatNumber(n: number): string {
  return Number.isInteger(n) ? String(n) : String(Math.round(n * 100) / 100);
}
