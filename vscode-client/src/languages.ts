/**
 * The languages Gloss glosses, as VS Code language ids: the one list the
 * client's document selector and the context key behind the menus' `when`
 * clauses are made from. package.json's activation events must name the same
 * ids (test/manifest.test.ts checks it). No `vscode` import: unit tests load
 * this module outside VS Code.
 *
 * File extensions map to these ids in VS Code itself: .js .mjs .cjs are
 * javascript, .jsx javascriptreact, .ts .mts .cts typescript, .tsx
 * typescriptreact, .c c, .h and .cc .cpp .cxx .hpp .hh .hxx cpp, .cs csharp.
 */

export const LANGUAGE_IDS = [
  'python',
  'javascript',
  'javascriptreact',
  'typescript',
  'typescriptreact',
  'go',
  'rust',
  'java',
  'c',
  'cpp',
  'csharp',
  'ruby',
  'php',
] as const;

export type LanguageId = (typeof LANGUAGE_IDS)[number];

/** Set to LANGUAGE_IDS at activation; package.json's menus say `editorLangId in gloss.languages`. */
export const LANGUAGES_CONTEXT_KEY = 'gloss.languages';

/** The `when` clause of a command that acts on the active editor's file. */
export const EDITOR_WHEN = `editorLangId in ${LANGUAGES_CONTEXT_KEY}`;

/** vscode-languageclient's documentSelector: files on disk in any of the languages. */
export function documentSelector(): { scheme: 'file'; language: LanguageId }[] {
  return LANGUAGE_IDS.map((language) => ({ scheme: 'file', language }));
}
