//! Embeds the corpus: every `.case` file under `corpus/` goes into the
//! binary (`include_str!` of a list written to OUT_DIR), so an installed
//! `sockdiff` can run `corpus check` and `explain` outside the checkout.

use std::path::{Path, PathBuf};

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else if p.extension().is_some_and(|x| x == "case") {
            out.push(p);
        }
    }
}

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let corpus = root.join("corpus");
    println!("cargo:rerun-if-changed=corpus");
    let mut files = Vec::new();
    walk(&corpus, &mut files);
    files.sort();
    let mut text = String::from(
        "/// Every corpus file: its path under `corpus/` (with `/`) and its text.\npub static FILES: &[(&str, &str)] = &[\n",
    );
    for f in &files {
        let rel: Vec<String> = f
            .strip_prefix(&corpus)
            .expect("under corpus")
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        text.push_str(&format!("    ({:?}, include_str!({:?})),\n", rel.join("/"), f.display().to_string()));
    }
    text.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("corpus.rs");
    std::fs::write(out, text).expect("write corpus.rs");
}
