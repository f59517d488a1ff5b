export declare const HEADER: string;
export declare function generateTypes(document: unknown): Promise<string>;
