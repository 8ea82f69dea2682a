// Types of scripts/build-if-stale.mjs, for its test.
export declare const STAMP: string;
export declare function newestInput(root: string): number;
export declare function buildIsStale(root: string): boolean;
export declare function buildStarting(root: string): void;
export declare function buildSucceeded(root: string): void;
