// Set while a model is rebuilt from a file or a replica: its parameters come from elsewhere, so the
// initialisers are not run (every model class reads initialisersSkipped() when it fills its arena).
let skipInitialisers = false;

/** Runs `build` with parameter initialisers disabled (the caller fills every parameter). */
export function withoutInitialisers<T>(build: () => T): T {
  skipInitialisers = true;
  try {
    return build();
  } finally {
    skipInitialisers = false;
  }
}

/** True while withoutInitialisers runs. */
export function initialisersSkipped(): boolean {
  return skipInitialisers;
}
