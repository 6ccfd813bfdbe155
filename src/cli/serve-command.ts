export function registerServeCommand(_: unknown): void {}
