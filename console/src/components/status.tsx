import type { ComponentChildren } from 'preact';
import type { Loaded } from '../data';

/** Loading and error states for a data call; renders `children(data)` once it has answered. */
export function Await<T>(props: { value: Loaded<T>; what: string; children: (data: T) => ComponentChildren }) {
  if (props.value.state === 'loading') {
    return (
      <p class="loading" role="status">
        Loading {props.what}…
      </p>
    );
  }
  if (props.value.state === 'error') {
    return (
      <p class="error" role="alert">
        Could not load {props.what}: {props.value.message}
      </p>
    );
  }
  return <>{props.children(props.value.data)}</>;
}

export function Empty(props: { children: ComponentChildren }) {
  return <div class="empty">{props.children}</div>;
}
