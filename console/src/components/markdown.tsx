import DOMPurify from 'dompurify';
import { marked } from 'marked';

/**
 * Card detail is GitHub-flavoured markdown that quotes record text (which can hold HTML): parsed by
 * marked, then sanitised by DOMPurify, so no script, handler or style from a record reaches the page.
 * Links open in a new tab without a referrer.
 */
DOMPurify.addHook('afterSanitizeAttributes', (node) => {
  if (node.tagName === 'A') {
    node.setAttribute('target', '_blank');
    node.setAttribute('rel', 'noopener noreferrer');
  }
});

export function renderMarkdown(text: string): string {
  const html = marked.parse(text, { async: false, gfm: true, breaks: false });
  return DOMPurify.sanitize(html, { USE_PROFILES: { html: true }, FORBID_TAGS: ['style', 'img', 'form', 'input'], FORBID_ATTR: ['style'] });
}

export function Markdown(props: { text: string; class?: string }) {
  return <div class={props.class ?? 'markdown'} dangerouslySetInnerHTML={{ __html: renderMarkdown(props.text) }} />;
}
