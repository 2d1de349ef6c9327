/**
 * "Gloss: Search by Behaviour": a picker fed live by the server's
 * gloss/search request, so a function is found by what its gloss says
 * ("parse yaml" finds load_config), not only by its name.
 *
 * VS Code's own symbol picker (Ctrl+T) drops every result whose name does not
 * match what was typed, which hides exactly these hits. Here every hit is
 * `alwaysShow`, and the picker keeps the server's order (best first) instead
 * of moving name matches to the top. Failures are shown in the picker's title
 * and the log, never dropped.
 */

import * as vscode from 'vscode';

import { LiveSearch, type SearchRequest } from './liveSearch';
import {
  describeSearchFailure,
  hitView,
  parseSearchAnswer,
  SEARCH_COMMAND,
  SEARCH_LIMIT,
  SEARCH_METHOD,
  type SearchHit,
} from './searchHits';
import { describeError, type GlossService, NotRunningError } from './service';

const TITLE = 'Gloss: Search by Behaviour';
const PLACEHOLDER = 'What the code does, e.g. "parse yaml", or part of its name';

interface HitItem extends vscode.QuickPickItem {
  readonly hit: SearchHit;
}

export function registerSearch(service: GlossService, output: vscode.LogOutputChannel): vscode.Disposable {
  return vscode.commands.registerCommand(SEARCH_COMMAND, (query?: unknown) =>
    openSearch(service, output, typeof query === 'string' ? query : ''),
  );
}

function openSearch(service: GlossService, output: vscode.LogOutputChannel, initial: string): void {
  const picker = vscode.window.createQuickPick<HitItem>();
  picker.title = TITLE;
  picker.placeholder = PLACEHOLDER;
  // Filtering never hides a row (every item is alwaysShow); these make VS Code
  // highlight the typed words where they occur in the path and the gloss.
  picker.matchOnDescription = true;
  picker.matchOnDetail = true;
  keepServerOrder(picker);

  let acceptWhenAnswered = false;
  let toldNotRunning = false;
  const fail = (query: string, message: string): void => {
    picker.items = [];
    picker.title = `${TITLE}: ${message}`;
    output.error(`${SEARCH_METHOD} "${query}": ${message}`);
    acceptWhenAnswered = false;
  };

  const live = new LiveSearch((query) => sendSearch(service, query), {
    busy: (busy) => {
      picker.busy = busy;
    },
    cleared: () => {
      picker.items = [];
      picker.title = TITLE;
      acceptWhenAnswered = false;
    },
    answered: (query, answer) => {
      const parsed = parseSearchAnswer(answer);
      if (!parsed.ok) {
        fail(query, `the server's answer cannot be shown (${parsed.reason})`);
        return;
      }
      picker.items = parsed.hits.map(toItem);
      picker.title = parsed.hits.length ? TITLE : `${TITLE}: nothing matches "${query}"`;
      if (acceptWhenAnswered) {
        acceptWhenAnswered = false;
        void openHit(picker.items[0]?.hit, picker, output);
      }
    },
    failed: (query, err) => {
      if (err instanceof NotRunningError) {
        fail(query, 'the server is not running; see the log, or run "Gloss: Restart Server"');
        if (!toldNotRunning) {
          toldNotRunning = true;
          offerRestart(output);
        }
        return;
      }
      const message = describeSearchFailure(err);
      if (message !== undefined) {
        fail(query, message);
      }
    },
  });

  const subscriptions: vscode.Disposable[] = [
    picker.onDidChangeValue((value) => live.update(value)),
    picker.onDidAccept(() => {
      // Enter typed before the answer to the latest text came: open that answer's best hit.
      if (live.pending) {
        acceptWhenAnswered = true;
        return;
      }
      void openHit(picker.activeItems[0]?.hit, picker, output);
    }),
    picker.onDidHide(() => {
      live.dispose();
      for (const s of subscriptions) {
        s.dispose();
      }
      picker.dispose();
    }),
  ];
  picker.show();
  if (initial) {
    picker.value = initial;
    live.update(initial); // asked once, whether or not the line above fired onDidChangeValue
  }
}

/** One gloss/search request, cancelled by its own token source when a newer query replaces it. */
function sendSearch(service: GlossService, query: string): SearchRequest {
  const source = new vscode.CancellationTokenSource();
  const answer = service.sendRequest(SEARCH_METHOD, { query, limit: SEARCH_LIMIT }, source.token);
  void answer.then(
    () => source.dispose(),
    () => source.dispose(),
  );
  return { answer, cancel: () => source.cancel() };
}

function toItem(hit: SearchHit): HitItem {
  const view = hitView(hit, (uri) => vscode.workspace.asRelativePath(vscode.Uri.parse(uri)));
  return {
    label: view.label,
    iconPath: new vscode.ThemeIcon(view.icon),
    description: view.description,
    detail: view.detail,
    alwaysShow: true,
    hit,
  };
}

/** Opens the hit's file with its name selected; the picker closes once the editor shows. */
async function openHit(
  hit: SearchHit | undefined,
  picker: vscode.QuickPick<HitItem>,
  output: vscode.LogOutputChannel,
): Promise<void> {
  if (!hit) {
    return; // nothing to open yet: the picker stays for more typing
  }
  const { start, end } = hit.location.range;
  const uri = vscode.Uri.parse(hit.location.uri);
  try {
    await vscode.window.showTextDocument(uri, {
      selection: new vscode.Range(start.line, start.character, end.line, end.character),
    });
    picker.hide();
  } catch (err) {
    const message = `Gloss: cannot open ${hit.qualname} in ${vscode.workspace.asRelativePath(uri)}: ${describeError(err)}`;
    output.error(message);
    picker.title = `${TITLE}: ${message}`;
  }
}

/**
 * The picker normally moves rows whose label matches the typed text to the
 * top; for this picker that would put a weak name match above the server's
 * best gloss match. `sortByLabel` is VS Code's switch for that sort (a
 * proposed API, so absent from the typings); where it cannot be set, rows
 * are merely reordered, never hidden.
 */
function keepServerOrder(picker: vscode.QuickPick<HitItem>): void {
  try {
    (picker as unknown as { sortByLabel: boolean }).sortByLabel = false;
  } catch {
    // an editor that refuses the proposed property: the rows stay, in VS Code's order
  }
}

function offerRestart(output: vscode.LogOutputChannel): void {
  void vscode.window
    .showErrorMessage('Gloss: the server is not running, so it cannot search.', 'Open Log', 'Restart')
    .then((choice) => {
      if (choice === 'Open Log') {
        output.show(true);
      } else if (choice === 'Restart') {
        void vscode.commands.executeCommand('gloss.restart');
      }
    });
}
