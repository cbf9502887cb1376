/// <reference lib="dom" />
/**
 * The SQL editor: CodeMirror 6 with a DuckDB dialect (PostgreSQL's keywords and types plus DuckDB's own, and
 * Mercury's time-series macros as built-ins), completion of the catalog's tables and columns (with their types),
 * bracket matching, search, undo history and the UI's shortcuts:
 *
 * | keys | does |
 * | --- | --- |
 * | Ctrl/⌘-Enter | run (the selection if there is one) |
 * | Ctrl/⌘-Shift-Enter | explain |
 * | Ctrl/⌘-S | copy a link to this query |
 * | Ctrl-Space | complete |
 * | Ctrl/⌘-/ | comment or uncomment lines |
 * | Esc | cancel the running query |
 *
 * @module
 */
import { Compartment, EditorSelection, EditorState, Prec } from "@codemirror/state";
import {
  drawSelection,
  EditorView,
  highlightActiveLine,
  highlightActiveLineGutter,
  highlightSpecialChars,
  keymap,
  lineNumbers,
  placeholder,
} from "@codemirror/view";
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import { bracketMatching, HighlightStyle, indentOnInput, syntaxHighlighting } from "@codemirror/language";
import { autocompletion, closeBrackets, closeBracketsKeymap, completionKeymap } from "@codemirror/autocomplete";
import { highlightSelectionMatches, searchKeymap } from "@codemirror/search";
import { PostgreSQL, sql, SQLDialect } from "@codemirror/lang-sql";
import { tags } from "@lezer/highlight";

/** DuckDB's keywords that PostgreSQL's list lacks. */
const DUCKDB_KEYWORDS =
  "asof positional qualify pivot unpivot pivot_longer pivot_wider exclude replace columns summarize describe " +
  "attach detach install load pragma macro semi anti struct map list union_by_name sample using";
const DUCKDB_TYPES = "hugeint uhugeint ubigint uinteger usmallint utinyint tinyint blob varchar timestamptz " +
  "timestamp_s timestamp_ms timestamp_ns struct map union enum list uuid bit";
const DUCKDB_BUILTINS = "ts_bucket ts_floor ts_lerp time_bucket date_trunc date_diff date_part epoch strftime " +
  "strptime arg_max arg_min list_agg string_agg approx_count_distinct quantile_cont median mode generate_series " +
  "range unnest read_parquet read_csv read_json";

/** The DuckDB dialect for CodeMirror's SQL language. */
export const DuckDB: SQLDialect = SQLDialect.define({
  ...PostgreSQL.spec,
  keywords: `${PostgreSQL.spec.keywords ?? ""} ${DUCKDB_KEYWORDS}`,
  types: `${PostgreSQL.spec.types ?? ""} ${DUCKDB_TYPES}`,
  builtin: `${PostgreSQL.spec.builtin ?? ""} ${DUCKDB_BUILTINS}`,
});

const highlight = HighlightStyle.define([
  { tag: tags.keyword, color: "#3b5bdb", fontWeight: "600" },
  { tag: [tags.typeName, tags.standard(tags.name)], color: "#7048e8" },
  { tag: [tags.string, tags.special(tags.string)], color: "#2b8a3e" },
  { tag: [tags.number, tags.bool, tags.null], color: "#d9480f" },
  { tag: tags.comment, color: "#8a93a8", fontStyle: "italic" },
  { tag: [tags.operator, tags.punctuation], color: "#5c6378" },
  { tag: tags.special(tags.name), color: "#c2255c" },
]);

const theme = EditorView.theme({
  "&": { fontSize: "13px", background: "#fbfcfe", borderRadius: "6px", border: "1px solid #e3e6ec" },
  "&.cm-focused": { outline: "2px solid #c5d0fa", outlineOffset: "-1px" },
  ".cm-scroller": { fontFamily: 'ui-monospace, "SFMono-Regular", "DejaVu Sans Mono", Menlo, monospace' },
  ".cm-content": { padding: "8px 0" },
  ".cm-gutters": { background: "#f4f6fa", border: "none", color: "#a3aabb" },
  ".cm-activeLine": { background: "#f1f4fd" },
  ".cm-activeLineGutter": { background: "#e8edff", color: "#3b5bdb" },
  ".cm-tooltip.cm-tooltip-autocomplete": { border: "1px solid #d7dcea", borderRadius: "6px", overflow: "hidden" },
  ".cm-tooltip-autocomplete > ul > li": { padding: "2px 10px 2px 4px" },
  ".cm-tooltip-autocomplete > ul > li[aria-selected]": { background: "#3b5bdb", color: "#fff" },
  ".cm-completionDetail": { color: "#8a93a8", fontStyle: "normal", marginLeft: "10px" },
});

/** The catalog as completion sees it: table name → its columns with their types. */
export type CompletionSchema = Record<string, readonly { name: string; type: string }[]>;

/** What the page does on the editor's shortcuts. */
export interface EditorActions {
  run(sql: string): void;
  explain(sql: string): void;
  share(): void;
  cancel(): boolean;
}

/** The editor as the page uses it. */
export interface SqlEditor {
  view: EditorView;
  get(): string;
  set(sql: string): void;
  /** Inserts `text` at the cursor (replacing the selection). */
  insert(text: string): void;
  /** The selected text, or the whole document when nothing is selected. */
  runnable(): string;
  setSchema(schema: CompletionSchema): void;
  focus(): void;
  /** Puts the cursor at a 1-based line and column (an error's position) and scrolls to it. */
  goto(line: number, column: number): void;
}

function language(schema: CompletionSchema) {
  const tables = Object.entries(schema);
  return sql({
    dialect: DuckDB,
    upperCaseKeywords: false,
    schema: Object.fromEntries(
      tables.map(([t, cols]) => [t, cols.map((c) => ({ label: c.name, detail: c.type, type: "property" }))]),
    ),
    tables: tables.map(([t, cols]) => ({ label: t, detail: `table · ${cols.length} columns`, type: "type" })),
  });
}

/** Mounts the editor in `parent`. */
export function createEditor(parent: HTMLElement, actions: EditorActions, doc = ""): SqlEditor {
  const lang = new Compartment();
  // Called only from key bindings and the page, after `view` below exists.
  const runnable = (): string => {
    const sel = view.state.selection.main;
    return (sel.empty ? view.state.doc.toString() : view.state.sliceDoc(sel.from, sel.to)).trim();
  };
  const shortcuts = Prec.highest(keymap.of([
    { key: "Mod-Enter", run: () => (actions.run(runnable()), true) },
    { key: "Shift-Mod-Enter", run: () => (actions.explain(runnable()), true) },
    { key: "Mod-s", run: () => (actions.share(), true), preventDefault: true },
    { key: "Escape", run: () => actions.cancel() },
  ]));
  const view: EditorView = new EditorView({
    parent,
    state: EditorState.create({
      doc,
      extensions: [
        shortcuts,
        lineNumbers(),
        highlightActiveLineGutter(),
        highlightSpecialChars(),
        history(),
        drawSelection(),
        indentOnInput(),
        bracketMatching(),
        closeBrackets(),
        autocompletion({ activateOnTyping: true }),
        highlightActiveLine(),
        highlightSelectionMatches(),
        syntaxHighlighting(highlight),
        placeholder("select … from …   (Ctrl+Enter runs, Ctrl+Space completes)"),
        keymap.of([
          ...closeBracketsKeymap,
          ...defaultKeymap,
          ...searchKeymap,
          ...historyKeymap,
          ...completionKeymap,
          indentWithTab,
        ]),
        lang.of(language({})),
        theme,
        EditorView.lineWrapping,
        EditorView.contentAttributes.of({ "aria-label": "SQL editor" }),
      ],
    }),
  });
  return {
    view,
    get: () => view.state.doc.toString(),
    set(text: string) {
      view.dispatch({
        changes: { from: 0, to: view.state.doc.length, insert: text },
        selection: EditorSelection.cursor(text.length),
      });
    },
    insert(text: string) {
      view.dispatch(view.state.replaceSelection(text));
      view.focus();
    },
    runnable,
    setSchema: (schema) => view.dispatch({ effects: lang.reconfigure(language(schema)) }),
    focus: () => view.focus(),
    goto(line: number, column: number) {
      const doc = view.state.doc;
      const l = doc.line(Math.min(Math.max(1, line), doc.lines));
      const pos = Math.min(l.from + Math.max(0, column - 1), l.to);
      view.dispatch({ selection: EditorSelection.cursor(pos), scrollIntoView: true });
      view.focus();
    },
  };
}
