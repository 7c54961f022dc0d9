const PAYMENT = /^Payment\s+\S/i;

/**
 * The caller's `Payment` credential, wherever the caller put it: `Authorization: Payment …`, after
 * a token in the same header (`Authorization: Bearer <jwt>, Payment …`), or `Payment-Authorization`.
 */
export function findPaymentCredential(headers: Headers): string | undefined {
  for (const name of ["payment-authorization", "authorization"]) {
    const value = headers.get(name);
    const found = value
      ?.split(",")
      .map((part) => part.trim())
      .find((part) => PAYMENT.test(part));
    if (found) return found;
  }
  return undefined;
}
