import type { Store as MppxStore } from "mppx";
import type { Store } from "@bitrouter/store";
import { deletePaymentState, getPaymentState, putPaymentState, updatePaymentState } from "@bitrouter/store";

/**
 * mppx's atomic key-value store on the BitRouter database (table `payment_state`): replay markers
 * and session state survive a restart and are shared by every instance on one database.
 */
export function databaseStore(store: Store): MppxStore.AtomicStore {
  return {
    get: async (key) => (await getPaymentState(store, key)) as never,
    put: (key, value) => putPaymentState(store, key, value),
    delete: (key) => deletePaymentState(store, key),
    update: (key, fn) => updatePaymentState(store, key, (current) => fn(current as never)),
  };
}
