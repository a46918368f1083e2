export * from './cluster';
export * from './cluster-access';
export * from './cluster-access-options';
export * from './principal';
export * from './access-level';
export * from './grant';
export * from './snapshot';
export * from './access-report';
