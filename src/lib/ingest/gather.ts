/** A file the user gave us, with its path relative to what was dropped or picked. */
export interface InputFile {
  file: File;
  /** Relative path (`folder/sub/name.json.gz`), or just the name for a loose file. */
  path: string;
}

type Entry = FileSystemEntry;

function readAllEntries(dir: FileSystemDirectoryEntry): Promise<Entry[]> {
  const reader = dir.createReader();
  const out: Entry[] = [];
  return new Promise((resolve, reject) => {
    const next = () =>
      reader.readEntries((batch) => {
        if (!batch.length) resolve(out);
        else {
          out.push(...batch);
          next();
        }
      }, reject);
    next();
  });
}

function entryFile(e: FileSystemFileEntry): Promise<File> {
  return new Promise((resolve, reject) => e.file(resolve, reject));
}

/**
 * Collects every file of a drop, walking dropped folders recursively (readEntries is called until it returns
 * no more, so folders over 100 entries are read whole). Entries must be taken from the DataTransfer
 * synchronously inside the drop handler, which this does before its first await.
 * @param onFound called with the running count while folders are walked.
 */
export async function filesFromDataTransfer(dt: DataTransfer, onFound?: (n: number) => void): Promise<InputFile[]> {
  const roots: Entry[] = [];
  const loose: File[] = [];
  for (const item of Array.from(dt.items ?? [])) {
    if (item.kind !== 'file') continue;
    const entry = item.webkitGetAsEntry?.();
    if (entry) roots.push(entry);
    else {
      const f = item.getAsFile();
      if (f) loose.push(f);
    }
  }
  if (!roots.length && !loose.length) for (const f of Array.from(dt.files ?? [])) loose.push(f);
  const out: InputFile[] = loose.map((file) => ({ file, path: file.name }));
  const stack: Entry[] = [...roots];
  while (stack.length) {
    const e = stack.pop()!;
    if (e.isFile) {
      const file = await entryFile(e as FileSystemFileEntry);
      out.push({ file, path: e.fullPath.replace(/^\//, '') || file.name });
      if (out.length % 500 === 0) onFound?.(out.length);
    } else if (e.isDirectory) {
      stack.push(...(await readAllEntries(e as FileSystemDirectoryEntry)));
    }
  }
  onFound?.(out.length);
  return out;
}

/** Files from an `<input type=file>` (with or without `webkitdirectory`), keeping relative paths. */
export function filesFromInput(list: FileList | null): InputFile[] {
  return Array.from(list ?? []).map((file) => ({ file, path: file.webkitRelativePath || file.name }));
}
