//! A git object's id (SHA-1 of header and content) and its content's SHA-256, computed in one
//! pass with the two compression functions interleaved block by block.
//!
//! Why not two hashers one after the other: each SHA-NI compression is a chain of dependent
//! round instructions, so one hash alone leaves most of the core's SHA units idle. Handing
//! the core a block of each hash in turn lets it run both chains at once: 1.5 GB/s for the
//! pair against 0.97 GB/s one after the other (measured on this project's benchmark machine,
//! 1 MiB buffers). Where the CPU has SHA-NI, the two compressions run in one hand-written loop
//! (`fused`); elsewhere RustCrypto's (`sha1`, `sha2`) are called a block at a time in turn. The
//! block buffering and the Merkle–Damgård padding, which those crates do not expose over raw
//! compression, are written here too; all of it is checked against the crates' own digests in
//! the tests below.

use sha1::digest::generic_array::GenericArray;
use sha1::digest::typenum::U64;

type Block = GenericArray<u8, U64>;

/// One hash's running state: the chaining value, the bytes of an incomplete block and the
/// message length so far.
#[derive(Clone)]
struct Lane<const N: usize> {
    state: [u32; N],
    pending: [u8; 64],
    filled: usize,
    len: u64,
}

/// The compression function of one hash, over whole blocks.
trait Compress<const N: usize> {
    fn compress(state: &mut [u32; N], blocks: &[Block]);
}

struct Sha1;
struct Sha256;

impl Compress<5> for Sha1 {
    fn compress(state: &mut [u32; 5], blocks: &[Block]) {
        sha1::compress(state, blocks);
    }
}

impl Compress<8> for Sha256 {
    fn compress(state: &mut [u32; 8], blocks: &[Block]) {
        sha2::compress256(state, blocks);
    }
}

/// `bytes` as a slice of whole blocks (its tail, less than a block, left out).
fn blocks(bytes: &[u8]) -> &[Block] {
    let n = bytes.len() / 64;
    // SAFETY: `GenericArray<u8, U64>` is a `[u8; 64]` (the crate guarantees the layout, with
    // an alignment of 1), and the first `n * 64` bytes of `bytes` are in bounds.
    unsafe { std::slice::from_raw_parts(bytes.as_ptr().cast::<Block>(), n) }
}

impl<const N: usize> Lane<N> {
    fn new(state: [u32; N]) -> Self {
        Lane {
            state,
            pending: [0; 64],
            filled: 0,
            len: 0,
        }
    }

    /// Tops up the pending block from `bytes`, compressing it once whole; what of `bytes` is
    /// left. Afterwards either nothing is pending or nothing is left.
    fn top_up<'a, C: Compress<N>>(&mut self, bytes: &'a [u8]) -> &'a [u8] {
        self.len += bytes.len() as u64;
        if self.filled == 0 {
            return bytes;
        }
        let take = (64 - self.filled).min(bytes.len());
        self.pending[self.filled..self.filled + take].copy_from_slice(&bytes[..take]);
        self.filled += take;
        if self.filled == 64 {
            C::compress(&mut self.state, blocks(&self.pending));
            self.filled = 0;
        }
        &bytes[take..]
    }

    /// Keeps the tail of `bytes`, what [`Lane::top_up`] left, after its whole blocks.
    fn keep_tail(&mut self, bytes: &[u8]) {
        // A block still pending means `top_up` took every byte.
        if self.filled > 0 {
            return;
        }
        let tail = &bytes[bytes.len() / 64 * 64..];
        self.pending[..tail.len()].copy_from_slice(tail);
        self.filled = tail.len();
    }

    fn update<C: Compress<N>>(&mut self, bytes: &[u8]) {
        let rest = self.top_up::<C>(bytes);
        C::compress(&mut self.state, blocks(rest));
        self.keep_tail(rest);
    }

    /// Pads the message (a 1 bit, zeros, the length in bits, big-endian) and returns the
    /// final chaining value.
    fn finish<C: Compress<N>>(mut self) -> [u32; N] {
        let bits = self.len.wrapping_mul(8);
        self.pending[self.filled] = 0x80;
        self.pending[self.filled + 1..].fill(0);
        if self.filled >= 56 {
            C::compress(&mut self.state, blocks(&self.pending));
            self.pending.fill(0);
        }
        self.pending[56..].copy_from_slice(&bits.to_be_bytes());
        C::compress(&mut self.state, blocks(&self.pending));
        self.state
    }
}

/// The SHA-1 of a git object (its header, then its content) and the SHA-256 of its content,
/// fed in one pass.
#[derive(Clone)]
pub struct GitTwin {
    sha1: Lane<5>,
    sha256: Lane<8>,
}

impl Default for GitTwin {
    fn default() -> Self {
        Self::new()
    }
}

impl GitTwin {
    /// Nothing hashed yet.
    pub fn new() -> Self {
        GitTwin {
            sha1: Lane::new([
                0x6745_2301,
                0xefcd_ab89,
                0x98ba_dcfe,
                0x1032_5476,
                0xc3d2_e1f0,
            ]),
            sha256: Lane::new([
                0x6a09_e667,
                0xbb67_ae85,
                0x3c6e_f372,
                0xa54f_f53a,
                0x510e_527f,
                0x9b05_688c,
                0x1f83_d9ab,
                0x5be0_cd19,
            ]),
        }
    }

    /// Feeds bytes of the object's header (`<kind> <length>\0`): SHA-1 only.
    pub fn header(&mut self, bytes: &[u8]) {
        self.sha1.update::<Sha1>(bytes);
    }

    /// Feeds bytes of the object's content: both hashes, a block of each in turn.
    pub fn content(&mut self, bytes: &[u8]) {
        let one = self.sha1.top_up::<Sha1>(bytes);
        let two = self.sha256.top_up::<Sha256>(bytes);
        let (ones, twos) = (blocks(one), blocks(two));
        let both = ones.len().min(twos.len());
        if !fused::compress(
            &mut self.sha1.state,
            &mut self.sha256.state,
            &ones[..both],
            &twos[..both],
        ) {
            in_turn(
                &mut self.sha1.state,
                &mut self.sha256.state,
                &ones[..both],
                &twos[..both],
            );
        }
        Sha1::compress(&mut self.sha1.state, &ones[both..]);
        Sha256::compress(&mut self.sha256.state, &twos[both..]);
        self.sha1.keep_tail(one);
        self.sha256.keep_tail(two);
    }

    /// The SHA-1 of everything fed (header and content, in the order fed) and the SHA-256 of
    /// the content.
    pub fn finish(self) -> ([u8; 20], [u8; 32]) {
        let mut sha1 = [0u8; 20];
        for (out, word) in sha1.chunks_exact_mut(4).zip(self.sha1.finish::<Sha1>()) {
            out.copy_from_slice(&word.to_be_bytes());
        }
        let mut sha256 = [0u8; 32];
        for (out, word) in sha256
            .chunks_exact_mut(4)
            .zip(self.sha256.finish::<Sha256>())
        {
            out.copy_from_slice(&word.to_be_bytes());
        }
        (sha1, sha256)
    }
}

/// The crates' compression functions, a block of each hash in turn (the core still overlaps
/// the two chains, less well than the fused loop).
fn in_turn(sha1: &mut [u32; 5], sha256: &mut [u32; 8], ones: &[Block], twos: &[Block]) {
    for (a, b) in ones.iter().zip(twos) {
        Sha1::compress(sha1, std::slice::from_ref(a));
        Sha256::compress(sha256, std::slice::from_ref(b));
    }
}

/// SHA-1 and SHA-256 compressed in one loop with the SHA-NI instructions, a block of each per
/// turn: the two round chains are independent, so the core runs them side by side (the
/// crates' functions, called a block at a time in turn, reach 1.5 GB/s for the pair; this,
/// which keeps both states in registers across blocks, is measured in docs/benchmarks.md).
/// Hand-written because no crate computes two digests in one pass; it follows the
/// instructions' documented use (Intel's SHA extensions paper) and is checked against the
/// crates' digests in the tests below.
mod fused {
    use super::Block;

    /// Compresses `ones` into the SHA-1 state and `twos` (as many blocks) into the SHA-256
    /// state; `false`, having done nothing, when the CPU lacks the instructions.
    pub(super) fn compress(
        sha1: &mut [u32; 5],
        sha256: &mut [u32; 8],
        ones: &[Block],
        twos: &[Block],
    ) -> bool {
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("sha")
            && std::is_x86_feature_detected!("sse4.1")
            && std::is_x86_feature_detected!("ssse3")
        {
            // SAFETY: the CPU has the instructions the function is compiled for.
            unsafe { ni::compress(sha1, sha256, ones, twos) };
            return true;
        }
        let _ = (sha1, sha256, ones, twos);
        false
    }

    #[cfg(target_arch = "x86_64")]
    mod ni {
        use super::Block;
        use std::arch::x86_64::*;

        /// SHA-256's round constants (FIPS 180-4, 4.2.2).
        const K: [u32; 64] = [
            0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
            0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
            0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
            0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
            0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
            0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
            0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
            0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
            0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
            0xc67178f2,
        ];

        /// # Safety
        /// The CPU must have SHA-NI, SSSE3 and SSE4.1.
        #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
        // The last groups' message words are computed into the window and not read again.
        #[allow(unused_assignments)]
        pub(super) unsafe fn compress(
            sha1: &mut [u32; 5],
            sha256: &mut [u32; 8],
            ones: &[Block],
            twos: &[Block],
        ) {
            // SAFETY (all loads and stores): each pointer is to 16 bytes inside `sha1`,
            // `sha256`, a 64-byte block or `K`; the loads and stores are unaligned ones.
            unsafe {
                // SHA-1 takes its words with the first in the highest lane; SHA-256 with the
                // first in the lowest: both big-endian within each word.
                let reverse = _mm_set_epi64x(0x0001_0203_0405_0607, 0x0809_0a0b_0c0d_0e0f);
                let swap = _mm_set_epi64x(0x0c0d_0e0f_0809_0a0b, 0x0405_0607_0001_0203);
                let mut abcd = _mm_shuffle_epi32(_mm_loadu_si128(sha1.as_ptr().cast()), 0x1b);
                let mut e = _mm_set_epi32(sha1[4] as i32, 0, 0, 0);
                let dcba = _mm_shuffle_epi32(_mm_loadu_si128(sha256.as_ptr().cast()), 0xb1);
                let hgfe = _mm_shuffle_epi32(_mm_loadu_si128(sha256.as_ptr().add(4).cast()), 0x1b);
                // SHA-256's state as the instructions take it: (a, b, e, f) and (c, d, g, h).
                let mut abef = _mm_alignr_epi8(dcba, hgfe, 8);
                let mut cdgh = _mm_blend_epi16(hgfe, dcba, 0xf0);
                for (one, two) in ones.iter().zip(twos) {
                    let (abcd_in, e_in, abef_in, cdgh_in) = (abcd, e, abef, cdgh);
                    // The last four groups of four message words of each hash, by group % 4.
                    let mut w1 = [_mm_setzero_si128(); 4];
                    let mut w2 = [_mm_setzero_si128(); 4];
                    for j in 0..4 {
                        let at = 16 * j;
                        w1[j] =
                            _mm_shuffle_epi8(_mm_loadu_si128(one.as_ptr().add(at).cast()), reverse);
                        w2[j] =
                            _mm_shuffle_epi8(_mm_loadu_si128(two.as_ptr().add(at).cast()), swap);
                    }
                    // `before` is SHA-1's (a, b, c, d) four rounds back, whose `a` gives `e`.
                    let mut before = abcd;
                    // Rounds 4g to 4g + 3 of each hash (SHA-256 has 16 groups, SHA-1 20). A macro
                    // rather than a loop, so that every index and branch is a constant and the
                    // message words stay in registers.
                    macro_rules! group {
                        ($g:literal, $f:literal) => {
                            let w = if $g < 4 {
                                w1[$g % 4]
                            } else {
                                let next = _mm_sha1msg2_epu32(
                                    _mm_xor_si128(
                                        _mm_sha1msg1_epu32(w1[$g % 4], w1[($g + 1) % 4]),
                                        w1[($g + 2) % 4],
                                    ),
                                    w1[($g + 3) % 4],
                                );
                                w1[$g % 4] = next;
                                next
                            };
                            let with_e = if $g == 0 {
                                _mm_add_epi32(e, w)
                            } else {
                                _mm_sha1nexte_epu32(before, w)
                            };
                            before = abcd;
                            abcd = _mm_sha1rnds4_epu32::<$f>(abcd, with_e);
                            if $g < 16 {
                                let w = if $g < 4 {
                                    w2[$g % 4]
                                } else {
                                    let next = _mm_sha256msg2_epu32(
                                        _mm_add_epi32(
                                            _mm_sha256msg1_epu32(w2[$g % 4], w2[($g + 1) % 4]),
                                            _mm_alignr_epi8(w2[($g + 3) % 4], w2[($g + 2) % 4], 4),
                                        ),
                                        w2[($g + 3) % 4],
                                    );
                                    w2[$g % 4] = next;
                                    next
                                };
                                let k = _mm_loadu_si128(K.as_ptr().add(4 * ($g % 16)).cast());
                                let wk = _mm_add_epi32(w, k);
                                cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk);
                                abef =
                                    _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(wk, 0x0e));
                            }
                        };
                    }
                    group!(0, 0);
                    group!(1, 0);
                    group!(2, 0);
                    group!(3, 0);
                    group!(4, 0);
                    group!(5, 1);
                    group!(6, 1);
                    group!(7, 1);
                    group!(8, 1);
                    group!(9, 1);
                    group!(10, 2);
                    group!(11, 2);
                    group!(12, 2);
                    group!(13, 2);
                    group!(14, 2);
                    group!(15, 3);
                    group!(16, 3);
                    group!(17, 3);
                    group!(18, 3);
                    group!(19, 3);
                    e = _mm_sha1nexte_epu32(before, e_in);
                    abcd = _mm_add_epi32(abcd, abcd_in);
                    abef = _mm_add_epi32(abef, abef_in);
                    cdgh = _mm_add_epi32(cdgh, cdgh_in);
                }
                _mm_storeu_si128(sha1.as_mut_ptr().cast(), _mm_shuffle_epi32(abcd, 0x1b));
                sha1[4] = _mm_extract_epi32(e, 3) as u32;
                let feba = _mm_shuffle_epi32(abef, 0x1b);
                let dchg = _mm_shuffle_epi32(cdgh, 0xb1);
                _mm_storeu_si128(
                    sha256.as_mut_ptr().cast(),
                    _mm_blend_epi16(feba, dchg, 0xf0),
                );
                _mm_storeu_si128(
                    sha256.as_mut_ptr().add(4).cast(),
                    _mm_alignr_epi8(dchg, feba, 8),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::GitTwin;
    use proptest::prelude::*;
    use sha1::Digest as _;

    fn expected(header: &[u8], content: &[u8]) -> ([u8; 20], [u8; 32]) {
        let mut one = sha1::Sha1::new();
        one.update(header);
        one.update(content);
        (one.finalize().into(), sha2::Sha256::digest(content).into())
    }

    #[test]
    fn every_length_around_the_block_edges() {
        let data: Vec<u8> = (0..400u32).map(|i| (i * 31 + 7) as u8).collect();
        for header in [&b""[..], b"blob 0\0", b"blob 1234567\0", &[b'h'; 70]] {
            for len in 0..data.len() {
                let mut twin = GitTwin::new();
                twin.header(header);
                twin.content(&data[..len]);
                assert_eq!(twin.finish(), expected(header, &data[..len]), "{len}");
            }
        }
    }

    #[test]
    fn known_vectors() {
        let (one, two) = {
            let mut twin = GitTwin::new();
            twin.content(b"abc");
            twin.finish()
        };
        assert_eq!(
            crate::hash::to_hex(&one),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(
            crate::hash::to_hex(&two),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        // git's id of the empty blob.
        let mut twin = GitTwin::new();
        twin.header(b"blob 0\0");
        assert_eq!(
            crate::hash::to_hex(&twin.finish().0),
            "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"
        );
    }

    proptest! {
        /// Fed in any pieces, header and content, the twin gives what the crates' own
        /// hashers give over the whole.
        #[test]
        fn any_split_hashes_as_the_crates_do(
            header in proptest::collection::vec(any::<u8>(), 0..80),
            content in proptest::collection::vec(any::<u8>(), 0..2000),
            header_cuts in proptest::collection::vec(0usize..80, 0..3),
            cuts in proptest::collection::vec(0usize..2000, 0..6),
        ) {
            let mut twin = GitTwin::new();
            feed(&header, header_cuts, |piece| twin.header(piece));
            feed(&content, cuts, |piece| twin.content(piece));
            prop_assert_eq!(twin.finish(), expected(&header, &content));
        }
    }

    proptest! {
        /// The fused loop (where this CPU has SHA-NI) and the crates' functions in turn reach
        /// the same states from any states over any blocks, so that neither path goes
        /// untested on a machine that takes the other.
        #[test]
        fn fused_and_in_turn_agree(
            one in any::<[u32; 5]>(),
            two in any::<[u32; 8]>(),
            data in proptest::collection::vec(any::<u8>(), 0..64 * 9),
            shift in 0usize..64,
        ) {
            let ones = super::blocks(&data);
            let twos = super::blocks(&data[shift.min(data.len())..]);
            let n = ones.len().min(twos.len());
            let (mut a1, mut a2) = (one, two);
            super::in_turn(&mut a1, &mut a2, &ones[..n], &twos[..n]);
            let (mut b1, mut b2) = (one, two);
            if super::fused::compress(&mut b1, &mut b2, &ones[..n], &twos[..n]) {
                prop_assert_eq!((a1, a2), (b1, b2));
            }
        }
    }

    fn feed(bytes: &[u8], mut cuts: Vec<usize>, mut eat: impl FnMut(&[u8])) {
        cuts.retain(|&c| c <= bytes.len());
        cuts.sort_unstable();
        let mut at = 0;
        for cut in cuts {
            eat(&bytes[at..cut]);
            at = cut;
        }
        eat(&bytes[at..]);
    }
}
