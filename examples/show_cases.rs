fn main() {
    let m = sockdiff::model::linux::Linux::new(None, false);
    for s in 0..4u64 {
        let c = sockdiff::generate::case_from_seed(s, Default::default(), &m);
        println!("# seed {s}\n{}", sockdiff::case::print(&c));
    }
}
