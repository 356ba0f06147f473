/**
 * The searchable symbol picker: a text field showing the current symbol;
 * focusing it lists every symbol (with how many exchanges it consolidates),
 * typing filters the list (`eth usd`), Enter or a click picks, Escape
 * closes.
 *
 * @module
 */

import type { JSX } from "preact";
import { useState } from "preact/hooks";
import { filterSymbols, type SymbolLiquidity } from "./settings.ts";

/** Props of {@linkcode SymbolPicker}. */
export interface SymbolPickerProps {
  /** The symbols to choose from. */
  symbols: readonly SymbolLiquidity[];
  /** The symbol shown. */
  value: string;
  /** Called with the symbol picked. */
  onPick: (symbol: string) => void;
}

/**
 * The symbol picker.
 * @param props the symbols, the current one and where a pick goes.
 * @returns the picker.
 * @example
 * ```tsx
 * <SymbolPicker symbols={symbols} value={symbol} onPick={setSymbol} />
 * ```
 */
export function SymbolPicker(props: SymbolPickerProps): JSX.Element {
  const { symbols, value, onPick } = props;
  const [query, setQuery] = useState<string | null>(null);
  const open = query !== null;
  const byName = new Map(symbols.map((s) => [s.symbol, s]));
  const matches = open
    ? filterSymbols(symbols.map((s) => s.symbol), query)
    : [];
  const pick = (s: string) => {
    setQuery(null);
    onPick(s);
  };
  return (
    <span class="picker" data-testid="symbol-picker">
      <input
        type="search"
        aria-label="symbol"
        placeholder={value || "symbol"}
        value={open ? query : value}
        spellcheck={false}
        autocomplete="off"
        onFocus={() => setQuery("")}
        onInput={(e) => setQuery((e.currentTarget as HTMLInputElement).value)}
        onKeyDown={(e) => {
          if (e.key === "Escape") {
            setQuery(null);
            (e.currentTarget as HTMLInputElement).blur();
          } else if (e.key === "Enter" && matches.length > 0) {
            pick(matches[0]);
            (e.currentTarget as HTMLInputElement).blur();
          }
        }}
        // A click on a list entry lands before the blur closes the list.
        onBlur={() => setTimeout(() => setQuery(null), 150)}
      />
      {open
        ? (
          <ul class="picker-list" role="listbox">
            {matches.length === 0 ? <li class="empty">no match</li> : null}
            {matches.map((s) => (
              <li
                key={s}
                role="option"
                aria-selected={s === value}
                class={s === value ? "on" : ""}
                onMouseDown={(e) => {
                  e.preventDefault();
                  pick(s);
                }}
              >
                <b>{s}</b>
                <small>{byName.get(s)?.exchanges.length ?? 0} ex</small>
              </li>
            ))}
          </ul>
        )
        : null}
    </span>
  );
}
