// Runs the StateStore conformance suite against MemoryStateStore.
import { MemoryStateStore } from '../../src/store/memory.ts';
import { runStoreConformance } from './conformance.ts';

runStoreConformance('MemoryStateStore', async () => ({ store: new MemoryStateStore() }));
