import { createHash } from "node:crypto";
import type { RegisteredTool } from "../registry/tool-registry.js";
import { checkAccess, type AuthorizationTarget } from "../security/authorize.js";
import type { Principal } from "../security/principal.js";
import { badRequest } from "./errors.js";

/**
 * Whether `principal` may see a tool in listings, and everything about it elsewhere (its events
 * among them): exactly when it may call it, so restricted tools need a grant and admin sees all.
 */
export function mayList(principal: Principal, tool: AuthorizationTarget): boolean {
  return checkAccess(principal, tool) === undefined;
}

/** The tools among `tools` that `principal` may list (see {@link mayList}). */
export function visibleTools(tools: readonly RegisteredTool[], principal: Principal): RegisteredTool[] {
  return tools.filter((t) => mayList(principal, { name: t.name, securityLevel: t.securityLevel, category: t.manifest.category }));
}

/** Filters of a tool listing; every one optional. */
export interface ToolListFilter {
  /** Only this category. */
  readonly category?: string;
  /** Only tools with this tag. */
  readonly tag?: string;
  /** Case-insensitive text looked up in name, title, description, category and tags. */
  readonly query?: string;
  /** Also list tools whose default version is deprecated. */
  readonly includeDeprecated?: boolean;
  /** Leave out experimental tools. */
  readonly excludeExperimental?: boolean;
  /** Page size; 0, negative or absent means 50, capped at 500. */
  readonly pageSize?: number;
  /** Token from the previous page. */
  readonly pageToken?: string;
}

/** One page of a tool listing. */
export interface ToolListPage {
  /** Tools on this page, sorted by name. */
  readonly tools: readonly RegisteredTool[];
  /** Token of the next page, "" on the last. */
  readonly nextPageToken: string;
  /** Matching tools over all pages. */
  readonly totalSize: number;
  /** Categories among all visible tools, sorted. */
  readonly categories: readonly string[];
  /** Tags among all visible tools, sorted. */
  readonly tags: readonly string[];
}

/**
 * Filters and pages the tools a caller may see. Page tokens are bound to the filters they were
 * made for, so a token reused with other filters is refused instead of skipping tools.
 */
export function listTools(visible: readonly RegisteredTool[], filter: ToolListFilter): ToolListPage {
  const query = filter.query?.trim().toLowerCase() ?? "";
  const matching = visible.filter((t) => {
    const m = t.manifest;
    if (filter.category && m.category !== filter.category) return false;
    if (filter.tag && !(m.tags ?? []).includes(filter.tag)) return false;
    if (m.deprecated === true && filter.includeDeprecated !== true) return false;
    if (m.experimental === true && filter.excludeExperimental === true) return false;
    if (query !== "") {
      const haystack = [m.name, m.title ?? "", m.description, m.category ?? "", ...(m.tags ?? [])].join("\n").toLowerCase();
      if (!haystack.includes(query)) return false;
    }
    return true;
  });
  const pageSize = Math.min(500, filter.pageSize === undefined || filter.pageSize <= 0 ? 50 : Math.floor(filter.pageSize));
  const fingerprint = filterFingerprint(filter);
  const offset = filter.pageToken ? decodePageToken(filter.pageToken, fingerprint) : 0;
  const end = offset + pageSize;
  return {
    tools: matching.slice(offset, end),
    nextPageToken: end < matching.length ? encodePageToken(end, fingerprint) : "",
    totalSize: matching.length,
    categories: sortedUnique(visible.flatMap((t) => (t.manifest.category ? [t.manifest.category] : []))),
    tags: sortedUnique(visible.flatMap((t) => t.manifest.tags ?? [])),
  };
}

function filterFingerprint(f: ToolListFilter): string {
  const key = JSON.stringify([f.category ?? "", f.tag ?? "", f.query ?? "", !!f.includeDeprecated, !!f.excludeExperimental]);
  return createHash("sha256").update(key).digest("base64url").slice(0, 12);
}

function encodePageToken(offset: number, fingerprint: string): string {
  return Buffer.from(`${offset}:${fingerprint}`).toString("base64url");
}

function decodePageToken(token: string, fingerprint: string): number {
  const [offset, fp] = Buffer.from(token, "base64url").toString().split(":");
  const n = Number(offset);
  if (fp !== fingerprint || !Number.isSafeInteger(n) || n < 0) {
    throw badRequest("page_token is not valid for this query; start again without it", "INVALID_PAGE_TOKEN");
  }
  return n;
}

function sortedUnique(values: readonly string[]): string[] {
  return [...new Set(values)].sort();
}
