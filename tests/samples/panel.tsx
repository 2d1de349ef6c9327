import React, { useEffect, useState } from "react";

/** What a panel shows and how it reports being toggled. */
export interface PanelProps {
  title: string;
  collapsed?: boolean;
  /** Told the new state after each toggle. */
  onToggle?(open: boolean): void;
}

/** Where a panel sits in the layout. */
export enum Dock {
  Left = "left",
  Right = "right",
}

/**
 * A titled panel that folds its children away.
 * @param props the panel's title and starting state
 */
export function Panel({ title, collapsed = false, onToggle, children }: React.PropsWithChildren<PanelProps>) {
  const [open, setOpen] = useState(!collapsed);
  const toggle = () => {
    setOpen(!open);
    onToggle?.(!open);
  };
  return (
    <section className="panel">
      <h2 onClick={toggle}>{title}</h2>
      {open && <div className="panel-body">{children}</div>}
    </section>
  );
}

/** Fetches the panels a user has saved. */
export async function loadPanels(url: string, signal?: AbortSignal): Promise<PanelProps[]> {
  const response = await fetch(url, { signal });
  return (await response.json()) as PanelProps[];
}

/** The saved panels, loaded once per URL. */
export const usePanels = (url: string): PanelProps[] => {
  const [panels, setPanels] = useState<PanelProps[]>([]);
  useEffect(() => {
    const controller = new AbortController();
    loadPanels(url, controller.signal).then(setPanels;
    return () => controller.abort();
  }, [url]);
  return panels;
};

/** Shows a message instead of a panel that failed to render. */
export class PanelBoundary extends React.Component<React.PropsWithChildren, { error?: Error }> {
  state: { error?: Error } = {};

  static getDerivedStateFromError(error: Error) {
    return { error };
  }

  render() {
    if (this.state.error) {
      return <p role="alert">{this.state.error.message}</p>;
    }
    return this.props.children;
  }
}

/** The panels docked on one side. */
export function Sidebar({ dock, url }: { dock: Dock; url: string }) {
  const panels = usePanels(url);
  return (
    <aside className={`sidebar-${dock}`}>
      {panels.map((p) => (
        <PanelBoundary key={p.title}>
          <Panel {...p} />
        </PanelBoundary>
      ))}
    </aside>
  );
}

const heading = "Übersicht 🗂"; export default function App() { return <Sidebar dock={Dock.Left} url={heading} />; }
