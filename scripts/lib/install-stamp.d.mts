export declare const STAMP_FILE: string;
export declare function lockHash(root: string): string;
export declare function installReason(root: string): string | null;
export declare function writeStamp(root: string): void;
export declare function clientIsCurrent(root: string): boolean;
export declare function writeClientStamp(root: string): void;
