import { show } from './bounds';
import { problem } from './errors';

/**
 * DNS name rules shared by hosts, Kubernetes object names, namespaces and port names.
 * Mirrors Istio's `pkg/config/validation/agent/validation.go` (`ValidateDNS1123Labels`, `ValidateFQDN`) and the
 * Kubernetes apimachinery DNS-1123 validators.
 */

/** A DNS-1123 label: 1-63 characters, lowercase alphanumerics and '-', starting and ending with an alphanumeric. */
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Maximum length of one DNS label. */
export const MAX_LABEL_LENGTH = 63;

/** Maximum length of a DNS name (Istio `CheckDNS1123Preconditions`). */
export const MAX_DNS_NAME_LENGTH = 255;

/** Maximum length of a Kubernetes DNS-1123 subdomain (object names). */
const MAX_SUBDOMAIN_LENGTH = 253;

/**
 * Why `label` is not a lowercase DNS-1123 label, or undefined if it is one.
 * @internal
 */
export function dnsLabelProblem(label: string): string | undefined {
  if (label.length === 0) {
    return 'must not be empty';
  }
  if (label.length > MAX_LABEL_LENGTH) {
    return `is ${label.length} characters long; a DNS label has at most ${MAX_LABEL_LENGTH}`;
  }
  if (DNS1123_LABEL.test(label)) {
    return undefined;
  }
  if (/[A-Z]/.test(label) && DNS1123_LABEL.test(label.toLowerCase())) {
    return `contains upper-case letters; write it in lower case ("${label.toLowerCase()}")`;
  }
  if (!DNS1123_LABEL.test(label)) {
    return 'must consist of lower-case letters, digits and \'-\', and start and end with a letter or digit';
  }
  return undefined;
}

/**
 * Validates a Kubernetes name that must be a DNS-1123 label (namespaces, Service names, Istio Gateway names, port
 * names). `what` names the thing in the message, e.g. `namespace`.
 * @internal
 */
export function validateDnsLabel(value: string, what: string): string {
  if (typeof value !== 'string') {
    throw problem(`invalid ${what} ${show(value)}: expected a string such as "istio-egress"`);
  }
  const why = dnsLabelProblem(value);
  if (why) {
    throw problem(`invalid ${what} "${value}": a ${what} ${why} (DNS-1123 label, e.g. "istio-egress")`);
  }
  return value;
}

/**
 * Validates a Kubernetes object name that must be a DNS-1123 subdomain (e.g. Deployment, ServiceAccount names).
 * @internal
 */
export function validateDnsSubdomain(value: string, what: string): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw problem(`invalid ${what} ${JSON.stringify(value)}: a ${what} must be a non-empty DNS-1123 subdomain`);
  }
  if (value.length > MAX_SUBDOMAIN_LENGTH) {
    throw problem(`invalid ${what} "${value}": a ${what} has at most ${MAX_SUBDOMAIN_LENGTH} characters`);
  }
  for (const label of value.split('.')) {
    const why = dnsLabelProblem(label);
    if (why) {
      throw problem(`invalid ${what} "${value}": each dot-separated part ${why} (DNS-1123 subdomain, e.g. "egress-gateway")`);
    }
  }
  return value;
}
