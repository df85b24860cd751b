export function route(p: string) { return p; }
