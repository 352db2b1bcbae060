import { METRIC_OTHER_NAME } from '../sse.constants.js';

/**
 * The one rule for the `sse.name` attribute: none unless the app allows it
 * (`metrics.byName`), every name with `true`, the listed names with a list
 * (any other is `_other`). Never a group or client id: those are per user.
 * Returns undefined when names are not attributes at all.
 */
export function nameLabeler(byName: boolean | ReadonlySet<string>): ((name: string) => string) | undefined {
  if (byName === false) return undefined;
  if (byName === true) return (name) => name;
  return (name) => (byName.has(name) ? name : METRIC_OTHER_NAME);
}
