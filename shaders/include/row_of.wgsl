// The row holding global token t: t / T when padded (P.cols != 0), else the last row whose CSR
// offset is <= t (rows may be empty). Uses the including shader's P.rows, P.cols and `offsets`.
fn row_of(t: u32) -> u32 {
  if (P.cols != 0u) { return t / P.cols; }
  var lo = 0u;
  var hi = P.rows - 1u;
  while (lo < hi) {
    let mid = (lo + hi + 1u) / 2u;
    if (offsets[mid] <= t) { lo = mid; } else { hi = mid - 1u; }
  }
  return lo;
}
