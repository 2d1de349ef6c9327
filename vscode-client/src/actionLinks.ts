/**
 * Gloss's hover action links: the capability that asks the server for them,
 * and the one trust VS Code gives them.
 *
 * Hovers are untrusted Markdown (model text is escaped by the server, but the
 * client does not rely on that): no HTML, and of all commands only the two
 * that Gloss's own links run are enabled. No VS Code import here.
 */

/** The only commands a hover link may run (docs/client-protocol.md). */
export const ACTION_COMMANDS: readonly string[] = Object.freeze(['gloss.reglossSymbol', 'gloss.escalate']);

/** Sets `experimental.gloss.actionLinks = true`, keeping what else is there. */
export function fillActionLinksCapability(capabilities: { experimental?: unknown }): void {
  const experimental = isRecord(capabilities.experimental) ? capabilities.experimental : {};
  const gloss = isRecord(experimental.gloss) ? experimental.gloss : {};
  capabilities.experimental = { ...experimental, gloss: { ...gloss, actionLinks: true } };
}

/** The parts of vscode.MarkdownString this module sets. */
export interface TrustableMarkdown {
  isTrusted?: boolean | { readonly enabledCommands: readonly string[] };
  supportHtml?: boolean;
}

/** Marks every Markdown part of a hover: trusted for ACTION_COMMANDS only, HTML off. */
export function trustActionLinks(
  contents: readonly unknown[],
  isMarkdown: (part: unknown) => part is TrustableMarkdown,
): number {
  let marked = 0;
  for (const part of contents) {
    if (isMarkdown(part)) {
      part.isTrusted = { enabledCommands: [...ACTION_COMMANDS] };
      part.supportHtml = false;
      marked += 1;
    }
  }
  return marked;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
