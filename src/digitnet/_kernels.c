/* The compiled kernels behind digitnet's fast engine: SGD and the forward pass, in C.

The same arithmetic as Network.backprop and optimizer.sgd_batches (their NumPy code is the
specification, and the tests compare the two), arranged for the hardware:

- A whole run of mini-batches per call, with the GIL released: no return to Python between steps.
- The input layer skips blank pixels: each example's inked pixels (about 150 of MNIST's 784) are listed
  by a vector scan (64 uint8 or 16 float32 pixels compared at once, the inked lanes packed to the front),
  and only their rows of W^T are worked on, in the forward pass (z = W x) and in the gradient
  (dC/dW = delta x^T).
- For SGD the images are packed once per fit (ink_count, ink_pack; engine.pack), not scanned each epoch:
  image r's inked pixels are pix[start[r]:start[r + 1]] (uint16 indices, ascending) and their values
  val alike, uint8 as stored for uint8 images (3 bytes per inked pixel: 27 MB for MNIST's 60,000, 47 MB
  as stored), else float32/float64 images converted to the network's dtype (2 + 4 or 8 bytes). An epoch
  then reads ~150 contiguous entries per example instead of 784 pixels, whatever the images' dtype.
  Unpacked images (the forward pass; other callers of sgd) are scanned in place, example order[j] read
  where it is stored.
- Either way, uint8 0-255 becomes v / 255 in the network's dtype (correctly rounded: the very numbers of
  the table lut[v] = dtype(v) / dtype(255) that the NumPy path computes), and
  float32/float64 brightnesses are converted to the network's dtype: the same arithmetic, packed or not.
- Plain SGD on one thread steps the first layer straight from each example's inked pixels and delta
  (the gradient's rows of blank pixels are 0: their weights do not change), after the mini-batch's
  forward and backward passes.
- exp is written out for vectors (no call to the C library): a block of 16 sigmoids is vector code too.
- Mini-batches of several shares (engine._shares: one per engine.PARALLEL_MIN_BATCH examples, at most
  engine.SHARES) run on threads: share t's examples sum into their own gradient, the shares are then
  added in a fixed order, so the bytes do not depend on the number of threads.
- Each function is compiled for AVX-512, AVX2 and plain x86-64 (target_clones; the ink scan written
  for each), and the one for the running CPU is picked when the module loads: no -march=native, the
  same build runs anywhere.

Memory layout. All layers' parameters sit in flat arrays (W, b, vW, vb), described by `lay`, one
row (int64) per layer: K (neurons), KP (K padded to a multiple of 16), ROWS (inputs: the previous
layer's KP, or for the first layer the image size rounded up to a multiple of GROUP = 8), WO (offset of
the layer's weights in W) and AO (of its biases, activations and deltas in b and the scratch).
The weights are held transposed, W^T (ROWS, KP), so that "add x_p times row p" is one contiguous
vector operation (an inked pixel's 16 weights are one vector), and cut into blocks of 16 neurons:
element (p, k) lives at WO + ((k / 16) * ROWS + p) * 16 + k % 16. Padded activations and deltas
are kept at 0, so the padding of W stays 0. The backward pass's W^T delta reads a copy of the
layers after the first untransposed, in the same blocks (Wn(k, p) at ((p / 16) * KP + k) * 16 + p % 16),
made afresh after each step in the kernels' own scratch.

Per example the loop is the lesson's: forward (z = W a + b, a = sigma(z)), the output delta from the
cost, backward (delta_prev = (W^T delta) * sigma'(z_prev)), gradients summed over the mini-batch;
then one update per mini-batch, v = mu v - eta (dW + lambda W); W += v (plain SGD: W -= eta dW).

Codes: hidden activation 0 = sigmoid, 1 = relu; cost 0 = quadratic (sigmoid output),
1 = cross-entropy (softmax output); images 0 = uint8, 1 = float32, 2 = float64.

The per-dtype code is below the module's entry points: this file includes itself twice, once with
REAL = float and once with REAL = double.
*/

#ifndef DIGITNET_REAL_PASS

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#endif

#define B 16      /* neurons per block: one 512-bit register of float32 */
#define GROUP 8   /* the first layer's rows (inputs) are padded to a multiple of 8 */
#ifndef DIRECT_MAX
#define DIRECT_MAX 64  /* plain SGD on one thread steps the first layer from each example's ink, up to this batch */
#endif
#define MAX_SHARES 64
#define PREFETCH_AHEAD 3  /* examples */
#define PREFETCH_LOCALITY 2  /* into L2: an image on its way does not evict the weights from L1 */
enum { K, KP, ROWS, WO, AO, LAY };  /* the columns of lay */
enum { SIGMOID, RELU };
enum { QUADRATIC, CROSS_ENTROPY };
enum { U8, F32, F64 };

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(DIGITNET_NO_CLONES)
#define KERNEL __attribute__((target_clones("avx512f", "arch=haswell", "default")))
#else
#define KERNEL
#endif
#define INLINE static inline __attribute__((always_inline))

/* -- the images ---------------------------------------------------------------------------------- */

typedef struct {
    const unsigned char *X; /* (N, n_cols) pixels of `kind`; NULL when packed */
    int kind;
    int64_t n_cols, N, item;
    /* The images packed (see ink_pack), or NULL: image r's inked pixels are pix[start[r]:start[r + 1]]
       (indices, ascending), their values val[start[r]:start[r + 1]]: uint8 for uint8 images, else REAL. */
    const int64_t *start;
    const uint16_t *pix;
    const void *val;
} Images;

/* The inked pixels of one image: the indices p < n of the pixels whose bits are not all 0 (-0.0 counts as
   ink: it adds 0), written to idx in increasing order, and their values' bits to raw (uint8 widened to
   uint32, float32 as uint32, float64 as uint64); returns how many. Vector compares give one bit per
   pixel, 64 uint8 (16 float32, 8 float64) at once, and the inked lanes are packed to the front of a
   vector without a branch per pixel, so a blank pixel costs a fraction of an instruction. One version
   per instruction set, picked when the module loads (scan_ink). idx and raw need room for INK_SLACK
   more entries: whole vectors are stored. */
typedef int64_t (*Scan)(const unsigned char *row, int64_t n, int64_t item, int32_t *idx, void *raw);
#define INK_SLACK 16

/* raw[j] = the bits of pixel idx[j], for j in [lo, hi) */
static void copy_raw(const unsigned char *row, int64_t item, const int32_t *idx, void *raw, int64_t lo, int64_t hi) {
    for (int64_t j = lo; j < hi; j++) {
        if (item == 1) ((uint32_t *)raw)[j] = row[idx[j]];
        else if (item == 4) memcpy((uint32_t *)raw + j, row + 4 * (int64_t)idx[j], 4);
        else memcpy((uint64_t *)raw + j, row + 8 * (int64_t)idx[j], 8);
    }
}

static int64_t scan_plain(const unsigned char *row, int64_t n, int64_t item, int32_t *restrict idx, void *raw) {
    int64_t c = 0;
    for (int64_t p = 0; p < n; p++) {  /* no branch: a blank pixel is overwritten by the next */
        uint64_t bits = 0;
        if (item == 1) bits = row[p];
        else if (item == 4) { uint32_t w; memcpy(&w, row + 4 * p, 4); bits = w; }
        else memcpy(&bits, row + 8 * p, 8);
        idx[c] = (int32_t)p;
        c += bits != 0;
    }
    copy_raw(row, item, idx, raw, 0, c);
    return c;
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(DIGITNET_NO_CLONES)
#include <immintrin.h>
#define SCAN_VERSIONS 1

/* AVX-512: a vector's inked lanes, indices and values, packed to the front (vpcompressd/q) and stored whole */
__attribute__((target("avx512f,avx512bw,popcnt")))
static int64_t scan_avx512(const unsigned char *row, int64_t n, int64_t item, int32_t *restrict idx, void *raw) {
    int64_t c = 0, per = 64 / item;  /* pixels per 64 bytes */
    const __m512i lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    uint32_t *raw32 = raw;
    uint64_t *raw64 = raw;
#define PACK16(mq, at, values) do { \
        _mm512_storeu_si512(idx + c, _mm512_maskz_compress_epi32(mq, at)); \
        _mm512_storeu_si512(raw32 + c, _mm512_maskz_compress_epi32(mq, values)); \
        c += __builtin_popcount(mq); \
    } while (0)
    for (int64_t p = 0; p < n; p += per) {
        int64_t left = n - p < per ? n - p : per;
        __m512i at = _mm512_add_epi32(lanes, _mm512_set1_epi32((int32_t)p));
        if (item == 1) {
            __m512i v = _mm512_maskz_loadu_epi8(left == 64 ? ~0ULL : (1ULL << left) - 1, row + p);
            uint64_t m = _mm512_test_epi8_mask(v, v);
            if (!m) continue;  /* 64 blank pixels (MNIST's top and bottom rows): nothing to pack */
            const __m512i sixteen = _mm512_set1_epi32(16);
            PACK16((__mmask16)m, at, _mm512_cvtepu8_epi32(_mm512_extracti32x4_epi32(v, 0)));
            at = _mm512_add_epi32(at, sixteen);
            PACK16((__mmask16)(m >> 16), at, _mm512_cvtepu8_epi32(_mm512_extracti32x4_epi32(v, 1)));
            at = _mm512_add_epi32(at, sixteen);
            PACK16((__mmask16)(m >> 32), at, _mm512_cvtepu8_epi32(_mm512_extracti32x4_epi32(v, 2)));
            at = _mm512_add_epi32(at, sixteen);
            PACK16((__mmask16)(m >> 48), at, _mm512_cvtepu8_epi32(_mm512_extracti32x4_epi32(v, 3)));
        } else if (item == 4) {
            __m512i v = _mm512_maskz_loadu_epi32((__mmask16)((1U << left) - 1), row + 4 * p);
            PACK16(_mm512_test_epi32_mask(v, v), at, v);
        } else {
            __m512i v = _mm512_maskz_loadu_epi64((__mmask8)((1U << left) - 1), row + 8 * p);
            __mmask8 m = _mm512_test_epi64_mask(v, v);
            _mm512_storeu_si512(idx + c, _mm512_maskz_compress_epi32(m, at));
            _mm512_storeu_si512(raw64 + c, _mm512_maskz_compress_epi64(m, v));
            c += __builtin_popcount(m);
        }
    }
#undef PACK16
    return c;
}

/* AVX2: 8 lanes at a time, packed by a permutation from a table (pack8[mask]: the set bits' positions) */
static int32_t pack8[256][8];

static void fill_pack8(void) {
    for (int m = 0; m < 256; m++)
        for (int i = 0, c = 0; i < 8; i++)
            if (m >> i & 1) pack8[m][c++] = i;
}

__attribute__((target("avx2,popcnt")))
static int64_t scan_avx2(const unsigned char *row, int64_t n, int64_t item, int32_t *restrict idx, void *raw) {
    int64_t c = 0, per = 32 / item, p = 0;
    const __m256i zero = _mm256_setzero_si256(), lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    for (; p + per <= n; p += per) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(row + p * item));
        uint64_t m;
        if (item == 1) m = ~(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, zero)) & 0xffffffffu;
        else if (item == 4) m = ~_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpeq_epi32(v, zero))) & 0xffu;
        else m = ~_mm256_movemask_pd(_mm256_castsi256_pd(_mm256_cmpeq_epi64(v, zero))) & 0xfu;
        int64_t c0 = c;
        for (int64_t q = 0; q < per; q += 8, m >>= 8) {
            unsigned mq = (unsigned)(m & 0xff);
            __m256i at = _mm256_add_epi32(lanes, _mm256_set1_epi32((int32_t)(p + q)));
            __m256i order = _mm256_loadu_si256((const __m256i *)pack8[mq]);
            _mm256_storeu_si256((__m256i *)(idx + c), _mm256_permutevar8x32_epi32(at, order));
            if (item == 1) {
                __m256i values = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(row + p + q)));
                _mm256_storeu_si256((__m256i *)((uint32_t *)raw + c), _mm256_permutevar8x32_epi32(values, order));
            } else if (item == 4) {
                _mm256_storeu_si256((__m256i *)((uint32_t *)raw + c), _mm256_permutevar8x32_epi32(v, order));
            }
            c += __builtin_popcount(mq);
        }
        if (item == 8) copy_raw(row, item, idx, raw, c0, c);
    }
    int64_t t = scan_plain(row + p * item, n - p, item, idx + c, item == 8 ? (void *)((uint64_t *)raw + c)
                                                                          : (void *)((uint32_t *)raw + c));
    for (int64_t j = 0; j < t; j++) idx[c++] += (int32_t)p;
    return c;
}

static int64_t scan_sse2(const unsigned char *row, int64_t n, int64_t item, int32_t *restrict idx, void *raw) {
    int64_t c = 0, p = 0;
    if (item == 8) return scan_plain(row, n, item, idx, raw);
    int64_t per = 16 / item;
    const __m128i zero = _mm_setzero_si128();
    for (; p + per <= n; p += per) {
        __m128i v = _mm_loadu_si128((const __m128i *)(row + p * item));
        uint64_t m = item == 1 ? ~(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, zero)) & 0xffffu
                               : ~(unsigned)_mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(v, zero))) & 0xfu;
        for (; m; m &= m - 1) idx[c++] = (int32_t)(p + __builtin_ctzll(m));
    }
    for (int64_t j = 0, t = scan_plain(row + p * item, n - p, item, idx + c, raw); j < t; j++) idx[c++] += (int32_t)p;
    copy_raw(row, item, idx, raw, 0, c);
    return c;
}
#endif

static Scan scan_ink = scan_plain;

/* The scan versions this CPU can run, best first, into out (at most 4); returns how many. */
static int scan_versions(Scan *out) {
    int n = 0;
#ifdef SCAN_VERSIONS
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("popcnt")) out[n++] = scan_avx512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt")) out[n++] = scan_avx2;
    out[n++] = scan_sse2;
#endif
    out[n++] = scan_plain;
    return n;
}

/* -- threads: a barrier that spins briefly, then yields ------------------------------------------- */

typedef struct {
    int n, count, gen;
} Barrier;

static void barrier_wait(Barrier *bar) {
    int gen = __atomic_load_n(&bar->gen, __ATOMIC_ACQUIRE);
    if (__atomic_add_fetch(&bar->count, 1, __ATOMIC_ACQ_REL) == bar->n) {
        __atomic_store_n(&bar->count, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&bar->gen, gen + 1, __ATOMIC_RELEASE);
        return;
    }
    for (int spins = 0; __atomic_load_n(&bar->gen, __ATOMIC_ACQUIRE) == gen; spins++) {
        if (spins < 2000) {
#if defined(__x86_64__) || defined(__i386__)
            __builtin_ia32_pause();
#endif
        } else {
            sched_yield();  /* the other core is taken: give it to the thread we wait for */
        }
    }
}

/* Run fn(arg, t) for t = 0..threads-1, thread 0 on the caller's thread. Returns how many ran: when
   a thread cannot be started, fewer (the callers then share the work among those that run). */
typedef struct {
    void (*fn)(void *, int, int);
    void *arg;
    int t;
    int *go;   /* 0 until the number of threads is known */
    int *threads;
} Start;

/* Numbers below the smallest normal float (1.2e-38; 2.2e-308 in double), denormals, cost the CPU a
   hundred cycles and more for each operation that makes or reads one. As a network learns, the deltas
   and updates of its saturated neurons fall there: an epoch of the lesson's network took twice as long
   by its twelfth epoch. The kernels flush them to zero while they run (FTZ for results, DAZ for inputs,
   in the calling thread's MXCSR, restored on the way out; their threads inherit it): an update that
   small never changes a weight of a normal size anyway. Elsewhere than x86, the FPU is left as it is. */
#define FLUSH_DENORMALS 0x8040u  /* MXCSR's flush-to-zero and denormals-are-zero bits */

static unsigned int flush_denormals(void) {
#if defined(__x86_64__) || defined(__i386__)
    unsigned int before = _mm_getcsr();
    _mm_setcsr(before | FLUSH_DENORMALS);
    return before;
#else
    return 0;
#endif
}

static void restore_fpu(unsigned int before) {
#if defined(__x86_64__) || defined(__i386__)
    _mm_setcsr(before);
#else
    (void)before;
#endif
}

static void *thread_main(void *p) {
    Start *s = p;
    while (!__atomic_load_n(s->go, __ATOMIC_ACQUIRE)) sched_yield();
    s->fn(s->arg, s->t, *s->threads);
    return NULL;
}

static void run_threads(void (*fn)(void *, int, int), void *arg, int threads, Barrier *bar) {
    pthread_t ids[MAX_SHARES];
    Start starts[MAX_SHARES];
    int go = 0, started = 1;
    if (threads > MAX_SHARES) threads = MAX_SHARES;
    for (int t = 1; t < threads; t++) {
        starts[t] = (Start){fn, arg, t, &go, &started};
        if (pthread_create(&ids[t], NULL, thread_main, &starts[t]) != 0) break;
        started++;
    }
    if (bar) bar->n = started;
    __atomic_store_n(&go, 1, __ATOMIC_RELEASE);
    fn(arg, 0, started);
    for (int t = 1; t < started; t++) pthread_join(ids[t], NULL);
}

/* Scratch memory, 4 KB aligned, each array starting at its own offset within a page: the CPU matches
   a load with earlier stores by the address's low 12 bits first, so arrays starting at the same place
   in their pages would make the loads of one wait on the stores into another. */
typedef struct {
    char *base;
    size_t used;
} Arena;

static void *arena_take(Arena *a, size_t bytes, size_t page_offset) {
    size_t at = (a->used + 4096 - page_offset) / 4096 * 4096 + page_offset;
    if (at < a->used) at += 4096;
    a->used = at + bytes;
    return a->base ? a->base + at : NULL;
}

/* the lay table, checked: returns L (> 0) or -1 with an exception set */
static int64_t lay_rows(Py_buffer *lay) {
    if (lay->len % (LAY * 8) != 0 || lay->len == 0) {
        PyErr_SetString(PyExc_ValueError, "lay must be int64 rows of 5 columns");
        return -1;
    }
    return lay->len / (LAY * 8);
}

/* Every cache line of the `bytes` bytes at p on their way (into L2: see PREFETCH_LOCALITY), the last one too:
   a range that starts inside a line ends in one more line than its length in lines. */
static inline __attribute__((always_inline)) void prefetch_bytes(const void *p, int64_t bytes) {
    const char *first = (const char *)((uintptr_t)p & ~(uintptr_t)63), *end = (const char *)p + bytes;
    for (const char *line = first; line < end; line += 64) __builtin_prefetch(line, 0, PREFETCH_LOCALITY);
}

static float byte_f32[256];  /* k / 255, correctly rounded (filled when the module loads) */
static double byte_f64[256];

static void fill_bytes(void) {
    for (int k = 0; k < 256; k++) {
        byte_f32[k] = (float)k / 255.0f;
        byte_f64[k] = (double)k / 255.0;
    }
}

#define DIGITNET_REAL_PASS 1
#define REAL float
#define IREAL int32_t
#define FN(name) name##_f32
#include "_kernels.c"  /* this file again, from its own directory */
#undef REAL
#undef IREAL
#undef FN
#define REAL double
#define IREAL int64_t
#define FN(name) name##_f64
#include "_kernels.c"  /* this file again, from its own directory */
#undef REAL
#undef IREAL
#undef FN
#undef DIGITNET_REAL_PASS

/* -- the module's entry points ------------------------------------------------------------------- */

typedef struct {
    Py_buffer X, Y, order, lay, W, b, vW, vb, start, pix, val;
} Buffers;

static void release(Buffers *bu) {
    Py_buffer *all[] = {&bu->X, &bu->Y, &bu->order, &bu->lay, &bu->W, &bu->b, &bu->vW, &bu->vb,
                        &bu->start, &bu->pix, &bu->val};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        if (all[i]->obj) PyBuffer_Release(all[i]);
}

/* The packed images of bu (start, pix, val: see ink_pack) into im, checked: every image at most n_cols
   inked pixels, all within pix and val (their indices are kept below n_cols where they are read). */
static int check_packed(Buffers *bu, int kind, int64_t n_cols, int64_t real, Images *im) {
    const int64_t *start = bu->start.buf;
    int64_t N = bu->start.len / 8 - 1, item = kind == U8 ? 1 : real;
    int ok = N >= 0 && n_cols <= 65536 && start[0] == 0;
    for (int64_t r = 0; ok && r < N; r++) ok = start[r + 1] >= start[r] && start[r + 1] - start[r] <= n_cols;
    if (!ok || bu->pix.len < start[N] * 2 || bu->val.len < start[N] * item) {
        PyErr_SetString(PyExc_ValueError, "bad packed images (start, pix, val)");
        return -1;
    }
    *im = (Images){NULL, kind, n_cols, N, item, start, bu->pix.buf, bu->val.buf};
    return 0;
}

/* The parts every entry point shares: images, table, layers and parameters, with their sizes checked
   (so that no call from Python can read or write outside an array). Returns 0, or -1 with an exception. */
static int check_common(Buffers *bu, int kind, int64_t n_cols, int f64, Images *im, int64_t *L) {
    int64_t real = f64 ? 8 : 4;
    static const int64_t items[] = {1, 4, 8};
    if (kind < U8 || kind > F64 || n_cols <= 0) {
        PyErr_SetString(PyExc_ValueError, "bad image kind or width");
        return -1;
    }
    *im = (Images){bu->X.buf, kind, n_cols, bu->X.len / (n_cols * items[kind]), items[kind], NULL, NULL, NULL};
    if (bu->start.obj && check_packed(bu, kind, n_cols, real, im) < 0) return -1;
    if ((*L = lay_rows(&bu->lay)) < 0) return -1;
    const int64_t *lay = bu->lay.buf, *last = lay + (*L - 1) * LAY;
    int64_t n_w = last[WO] + last[ROWS] * last[KP], n_a = last[AO] + last[KP];
    if (lay[ROWS] < n_cols || lay[ROWS] % GROUP || bu->W.len < n_w * real ||
        bu->b.len < n_a * real || (!im->start && bu->X.len != im->N * n_cols * items[kind])) {
        PyErr_SetString(PyExc_ValueError, "arrays too small for the layers in lay");
        return -1;
    }
    for (int64_t l = 0; l < *L; l++) {
        const int64_t *r = lay + l * LAY;
        if (r[KP] % B || r[K] > r[KP] || (l && r[ROWS] != r[KP - LAY]) || r[WO] < 0 || r[AO] < 0) {
            PyErr_SetString(PyExc_ValueError, "inconsistent lay");
            return -1;
        }
    }
    return 0;
}

static PyObject *py_sgd(PyObject *self, PyObject *args) {
    Buffers bu = {0};
    int kind, f64, hidden, cost, shares, threads;
    long long n_cols, start, stop, batch;
    double eta, mu, lam;
    PyObject *ink = Py_None;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*iLy*y*LLLdddiiy*w*w*w*w*iii|O", &bu.X, &kind, &n_cols, &bu.Y, &bu.order,
                          &start, &stop, &batch, &eta, &mu, &lam, &hidden, &cost, &bu.lay, &bu.W,
                          &bu.b, &bu.vW, &bu.vb, &shares, &threads, &f64, &ink))
        return NULL;
    if (ink != Py_None && !PyArg_ParseTuple(ink, "y*y*y*;ink must be (start, pix, val)", &bu.start, &bu.pix, &bu.val)) {
        release(&bu);
        return NULL;
    }
    Images im;
    int64_t L;
    double total = 0;
    int64_t right = 0;
    int status = check_common(&bu, kind, n_cols, f64, &im, &L);
    if (status == 0) {
        const int64_t *lay = bu.lay.buf, *last = lay + (L - 1) * LAY;
        int64_t real = f64 ? 8 : 4, n_order = bu.order.len / 8;
        const int64_t *order = bu.order.buf;
        if (batch < 1 || start < 0 || stop > n_order || shares < 1 || shares > MAX_SHARES || threads < 1 ||
            bu.Y.len < im.N * last[K] * real || (mu != 0 && (bu.vW.len < bu.W.len || bu.vb.len < bu.b.len))) {
            PyErr_SetString(PyExc_ValueError, "bad sizes for sgd");
            status = -1;
        }
        for (int64_t j = start; status == 0 && j < stop; j++)
            if (order[j] < 0 || order[j] >= im.N) {
                PyErr_Format(PyExc_IndexError, "order holds indices outside 0..%lld", (long long)im.N - 1);
                status = -1;
            }
    }
    if (status == 0) {
        Py_BEGIN_ALLOW_THREADS
        unsigned int fpu = flush_denormals();
        if (f64)
            status = sgd_f64(&im, bu.Y.buf, bu.order.buf, start, stop, batch, eta, mu, lam, hidden,
                             cost, bu.lay.buf, L, bu.W.buf, bu.b.buf, bu.vW.buf, bu.vb.buf, shares, threads, &total, &right);
        else
            status = sgd_f32(&im, bu.Y.buf, bu.order.buf, start, stop, batch, eta, mu, lam, hidden,
                             cost, bu.lay.buf, L, bu.W.buf, bu.b.buf, bu.vW.buf, bu.vb.buf, shares, threads, &total, &right);
        restore_fpu(fpu);
        Py_END_ALLOW_THREADS
        if (status) PyErr_NoMemory();
    }
    release(&bu);
    return status ? NULL : Py_BuildValue("(dL)", total, (long long)right);
}

static PyObject *py_forward(PyObject *self, PyObject *args) {
    Buffers bu = {0};
    Py_buffer out = {0};
    int kind, f64, hidden, cost, threads;
    long long n_cols;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*iLiiy*y*y*w*ii", &bu.X, &kind, &n_cols, &hidden, &cost, &bu.lay,
                          &bu.W, &bu.b, &out, &threads, &f64))
        return NULL;
    Images im;
    int64_t L;
    int status = check_common(&bu, kind, n_cols, f64, &im, &L);
    if (status == 0) {
        const int64_t *last = (const int64_t *)bu.lay.buf + (L - 1) * LAY;
        if (out.len < im.N * last[K] * (f64 ? 8 : 4) || threads < 1) {
            PyErr_SetString(PyExc_ValueError, "out too small");
            status = -1;
        }
    }
    if (status == 0) {
        Py_BEGIN_ALLOW_THREADS
        unsigned int fpu = flush_denormals();
        status = f64 ? forward_f64(&im, hidden, cost, bu.lay.buf, L, bu.W.buf, bu.b.buf, out.buf, threads)
                     : forward_f32(&im, hidden, cost, bu.lay.buf, L, bu.W.buf, bu.b.buf, out.buf, threads);
        restore_fpu(fpu);
        Py_END_ALLOW_THREADS
        if (status) PyErr_NoMemory();
    }
    release(&bu);
    PyBuffer_Release(&out);
    if (status) return NULL;
    Py_RETURN_NONE;
}

/* as_bytes(val, out, f64) -> bool: whether the brightnesses val (float, or double with f64) are all bytes
   / 255 (see FN(bytes)), writing the bytes into out. */
static PyObject *py_as_bytes(PyObject *self, PyObject *args) {
    Py_buffer val = {0}, out = {0};
    int f64, all;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*w*i", &val, &out, &f64)) return NULL;
    int64_t n = val.len / (f64 ? 8 : 4);
    if (out.len < n) {
        PyErr_SetString(PyExc_ValueError, "out too small");
        PyBuffer_Release(&val);
        PyBuffer_Release(&out);
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    all = f64 ? bytes_f64(val.buf, out.buf, n) : bytes_f32(val.buf, out.buf, n);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&val);
    PyBuffer_Release(&out);
    return PyBool_FromLong(all);
}

static PyObject *py_exp(PyObject *self, PyObject *args) {
    Py_buffer x = {0}, out = {0};
    int f64;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*w*i", &x, &out, &f64)) return NULL;
    if (out.len < x.len) {
        PyBuffer_Release(&x);
        PyBuffer_Release(&out);
        PyErr_SetString(PyExc_ValueError, "out too small");
        return NULL;
    }
    if (f64)
        exp_all_f64(x.buf, out.buf, x.len / 8);
    else
        exp_all_f32(x.buf, out.buf, x.len / 4);
    PyBuffer_Release(&x);
    PyBuffer_Release(&out);
    Py_RETURN_NONE;
}

static PyObject *py_inked(PyObject *self, PyObject *args) {
    Py_buffer x = {0};
    int item, version;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*ii", &x, &item, &version)) return NULL;
    Scan versions[4];
    int n_versions = scan_versions(versions);
    PyObject *result = NULL;
    if ((item != 1 && item != 4 && item != 8) || x.len % item || version < 0) {
        PyErr_SetString(PyExc_ValueError, "bad item size or version");
    } else if (version >= n_versions) {
        result = Py_None;
        Py_INCREF(result);
    } else {
        int64_t n = x.len / item;
        int32_t *idx = malloc((n + INK_SLACK) * sizeof(int32_t));
        uint64_t *raw = malloc((n + INK_SLACK) * sizeof(uint64_t));
        if (!idx || !raw) {
            PyErr_NoMemory();
        } else {
            int64_t c = versions[version](x.buf, n, item, idx, raw);
            PyObject *where = PyList_New(c), *bits = PyList_New(c);
            for (int64_t j = 0; where && bits && j < c; j++) {
                PyList_SET_ITEM(where, j, PyLong_FromLong(idx[j]));
                PyList_SET_ITEM(bits, j, PyLong_FromUnsignedLongLong(item == 8 ? raw[j] : ((uint32_t *)raw)[j]));
            }
            if (where && bits) result = Py_BuildValue("(OO)", where, bits);
            Py_XDECREF(where);
            Py_XDECREF(bits);
        }
        free(idx);
        free(raw);
    }
    PyBuffer_Release(&x);
    return result;
}

/* -- packing the inked pixels ------------------------------------------------------------------------ */

typedef struct {
    const Images *im;
    const int64_t *start;  /* NULL: count only */
    int64_t *counts;
    uint16_t *pix;
    void *val;
    int f64, failed;
} PackJob;

/* Images [lo, hi) of the thread's part scanned: their counts, or their inked pixels' indices and values
   (uint8 as stored, float converted to float32 or float64 as the kernels convert them). */
static void pack_thread(void *arg, int t, int threads) {
    PackJob *job = arg;
    const Images *im = job->im;
    int64_t lo = im->N * t / threads, hi = im->N * (t + 1) / threads;
    int32_t *idx = malloc((im->n_cols + INK_SLACK) * sizeof(int32_t));
    uint64_t *raw = malloc((im->n_cols + INK_SLACK) * sizeof(uint64_t));
    uint32_t *raw32 = (uint32_t *)raw;
    if (!idx || !raw) {
        __atomic_store_n(&job->failed, 1, __ATOMIC_RELAXED);
        lo = hi;
    }
    for (int64_t r = lo; r < hi; r++) {
        int64_t n = scan_ink(im->X + r * im->n_cols * im->item, im->n_cols, im->item, idx, raw);
        if (!job->start) {
            job->counts[r] = n;
            continue;
        }
        int64_t at = job->start[r];
        if (job->start[r + 1] - at != n) {
            __atomic_store_n(&job->failed, 2, __ATOMIC_RELAXED);
            break;
        }
        for (int64_t j = 0; j < n; j++) job->pix[at + j] = (uint16_t)idx[j];
        for (int64_t j = 0; j < n; j++) {
            double v;
            float f;
            if (im->kind == U8) {
                ((uint8_t *)job->val)[at + j] = (uint8_t)raw32[j];
                continue;
            }
            if (im->kind == F32) {
                memcpy(&f, raw32 + j, 4);
                if (job->f64) ((double *)job->val)[at + j] = (double)f;
                else ((float *)job->val)[at + j] = f;
            } else {
                memcpy(&v, raw + j, 8);
                if (job->f64) ((double *)job->val)[at + j] = v;
                else ((float *)job->val)[at + j] = (float)v;
            }
        }
    }
    free(idx);
    free(raw);
}

/* ink_count(X, kind, n_cols, counts, threads) and ink_pack(X, kind, n_cols, start, pix, val, f64, threads) */
static PyObject *ink_entry(PyObject *args, int pack) {
    Py_buffer X = {0}, start = {0}, pix = {0}, val = {0};
    int kind, f64 = 0, threads;
    long long n_cols;
    int ok = pack ? PyArg_ParseTuple(args, "y*iLy*w*w*ii", &X, &kind, &n_cols, &start, &pix, &val, &f64, &threads)
                  : PyArg_ParseTuple(args, "y*iLw*i", &X, &kind, &n_cols, &start, &threads);
    if (!ok) return NULL;
    static const int64_t items[] = {1, 4, 8};
    PackJob job = {0};
    Images im = {0};
    int status = -1;
    if (kind < U8 || kind > F64 || n_cols <= 0 || n_cols > 65536 || threads < 1 || X.len % (n_cols * items[kind])) {
        PyErr_SetString(PyExc_ValueError, "bad image kind, width or threads");
    } else {
        im = (Images){X.buf, kind, n_cols, X.len / (n_cols * items[kind]), items[kind], NULL, NULL, NULL};
        const int64_t *s = start.buf;
        int64_t item = kind == U8 ? 1 : (f64 ? 8 : 4);
        if (!pack ? start.len < im.N * 8
                  : start.len != (im.N + 1) * 8 || s[0] != 0 || pix.len < s[im.N] * 2 || val.len < s[im.N] * item) {
            PyErr_SetString(PyExc_ValueError, "bad sizes for the packed images");
        } else {
            job = (PackJob){&im, pack ? s : NULL, start.buf, pix.buf, val.buf, f64, 0};
            if (pack) for (int64_t r = 0; r < im.N && !job.failed; r++) job.failed = 2 * (s[r + 1] < s[r]);
            if (!job.failed) {
                Py_BEGIN_ALLOW_THREADS
                run_threads(pack_thread, &job, threads, NULL);
                Py_END_ALLOW_THREADS
            }
            if (job.failed == 1) PyErr_NoMemory();
            else if (job.failed) PyErr_SetString(PyExc_ValueError, "start does not match the images' inked pixels");
            else status = 0;
        }
    }
    PyBuffer_Release(&X);
    PyBuffer_Release(&start);
    if (pack) {
        PyBuffer_Release(&pix);
        PyBuffer_Release(&val);
    }
    if (status) return NULL;
    Py_RETURN_NONE;
}

static PyObject *py_ink_count(PyObject *self, PyObject *args) {
    (void)self;
    return ink_entry(args, 0);
}

static PyObject *py_ink_pack(PyObject *self, PyObject *args) {
    (void)self;
    return ink_entry(args, 1);
}

static PyMethodDef methods[] = {
    {"sgd", py_sgd, METH_VARARGS,
     "sgd(X, kind, n_cols, Y, order, start, stop, batch_size, eta, mu, lambda, hidden, cost, lay, W, b, vW, vb,"
     " shares, threads, f64, ink=None) -> (summed cost, right guesses): SGD on the mini-batches order[start:start + batch_size],"
     " ... up to order[:stop], updating W, b (and the velocities vW, vb) in place. ink: the images packed, (start, pix, val)"
     " of ink_pack, read instead of X."},
    {"forward", py_forward, METH_VARARGS,
     "forward(X, kind, n_cols, hidden, cost, lay, W, b, out, threads, f64): out = the output activations"
     " of every image of X."},
    {"ink_count", py_ink_count, METH_VARARGS,
     "ink_count(X, kind, n_cols, counts, threads): counts[r] = how many pixels of image r are inked (not all 0 bits)."},
    {"ink_pack", py_ink_pack, METH_VARARGS,
     "ink_pack(X, kind, n_cols, start, pix, val, f64, threads): image r's inked pixels into pix[start[r]:start[r + 1]]"
     " (uint16 indices, ascending) and val (uint8 as stored for uint8 images, else float32 or float64 with f64)."},
    {"as_bytes", py_as_bytes, METH_VARARGS, "as_bytes(val, out, f64): whether val is bytes / 255, out the bytes."},
    {"exp", py_exp, METH_VARARGS, "exp(x, out, f64): out = e^x with the kernels' own exp (for testing it)."},
    {"inked", py_inked, METH_VARARGS,
     "inked(x, item, version) -> (indices, bits): the pixels of x (items of 1, 4 or 8 bytes) whose bits are not"
     " all 0, and their bits, by scan version `version` (0: the one used; the later ones: the versions for older CPUs, the last"
     " plain C), or None when this CPU has no such version (for testing them)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_kernels",
                                    "digitnet's compiled kernels (see _kernels.c): SGD and the forward pass.", -1,
                                    methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__kernels(void) {
    Scan best[4];
    fill_bytes();
#ifdef SCAN_VERSIONS
    fill_pack8();
#endif
    scan_versions(best);
    scan_ink = best[0];
    PyObject *m = PyModule_Create(&module);
    if (m && (PyModule_AddIntConstant(m, "B", B) || PyModule_AddIntConstant(m, "GROUP", GROUP) ||
              PyModule_AddIntConstant(m, "MAX_SHARES", MAX_SHARES))) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}

#else /* DIGITNET_REAL_PASS: the kernels for one dtype, REAL ------------------------------------------ */


typedef struct {
    const Images *im;
    const int64_t *lay;
    int64_t L, n_w, n_a, ink_room;  /* ink_room: room for one example's inked pixels (the first layer's ROWS + INK_SLACK) */
    int hidden, cost;
    REAL *W, *b, *vW, *vb;
    const REAL *Y;
    const int64_t *order;
    REAL eta, mu, lam;
} FN(Net);

/* A share's scratch. Its examples' inked pixels: example e's offsets at idx + e * ink_room, brightnesses at
   xv + e * ink_room, count n_ink[e], first-layer delta at D1 + e * KP (room for one example, or for a
   whole mini-batch when the first layer is stepped from them: see sgd_serial). */
typedef struct {
    REAL *A, *D, *G, *Gb, *xv, *Wn, *D1;  /* Wn: the layers after the first untransposed, for the backward pass */
    int32_t *idx;  /* the inked pixels' offsets p * B in a block of the first layer's W^T */
    void *raw;     /* the scan's values, room for one example */
    int64_t *n_ink;
} FN(Scratch);

/* The inked pixels of example r: their offsets p * B in a block of W^T into idx (so that a pixel's row is
   one addressing away), their brightnesses in REAL into xv (uint8 v as v / 255 in REAL, correctly rounded:
   the very numbers the NumPy path computes; float converted); returns how many. */
INLINE int64_t FN(inked_pixels)(const FN(Net) *net, int64_t r, int32_t *restrict idx, REAL *restrict xv,
                                void *raw) {
    const Images *im = net->im;
    if (im->start) {  /* packed: copied, each value converted exactly as the scan's below */
        int64_t at = im->start[r], n = im->start[r + 1] - at, rows = im->n_cols;
        const uint16_t *restrict pix = im->pix + at;
        for (int64_t j = 0; j < n; j++) idx[j] = (int32_t)(pix[j] < rows ? pix[j] : 0) * B;  /* never outside W */
        if (im->kind == U8) {
            const uint8_t *restrict v = (const uint8_t *)im->val + at;
            for (int64_t j = 0; j < n; j++) xv[j] = (REAL)v[j] / (REAL)255;
        } else {
            memcpy(xv, (const REAL *)im->val + at, n * sizeof(REAL));
        }
        return n;
    }
    const unsigned char *row = im->X + r * im->n_cols * im->item;
    int64_t n = scan_ink(row, im->n_cols, im->item, idx, raw);
    const uint32_t *restrict r32 = raw;
    const uint64_t *restrict r64 = raw;
    if (im->kind == U8) {
        for (int64_t j = 0; j < n; j++) xv[j] = (REAL)r32[j] / (REAL)255;
    } else if (im->kind == F32) {
        for (int64_t j = 0; j < n; j++) {
            float v;
            memcpy(&v, r32 + j, 4);
            xv[j] = (REAL)v;
        }
    } else {
        for (int64_t j = 0; j < n; j++) {
            double v;
            memcpy(&v, r64 + j, 8);
            xv[j] = (REAL)v;
        }
    }
    for (int64_t j = 0; j < n; j++) idx[j] *= B;
    return n;
}

/* A block of 16 neurons' values as one vector (GCC's vector extensions: one AVX-512 register of float,
   two of double, or several AVX2 / SSE registers, whichever the running CPU's clone has). */
typedef REAL FN(vec) __attribute__((vector_size(B * sizeof(REAL)), aligned(sizeof(REAL))));
#define V FN(vec)
#define AT(p) (*(V *)(p))
#define CAT(p) (*(const V *)(p))

/* A block in 512-bit pieces, NPIECES of them (1 for float, 2 for double): GCC keeps a vector wider than the
   CPU's registers (a block of 16 doubles) in memory between operations, so the hottest loops, the first
   layer's, hold their sums in registers of one piece each. */
typedef REAL FN(piece) __attribute__((vector_size(64), aligned(sizeof(REAL))));
#define VP FN(piece)
#define NPIECES ((int)(B * sizeof(REAL) / 64))
#define PIECE_LEN (64 / (int)sizeof(REAL))  /* the values in a piece */
#define CVP(p) (*(const VP *)(p))
#define AVP(p) (*(VP *)(p))

/* The integer lanes of the same width, for bit tricks; comparisons of V give such lanes, -1 (true) or 0 */
typedef IREAL FN(ivec) __attribute__((vector_size(B * sizeof(REAL)), aligned(sizeof(REAL))));
#define IV FN(ivec)

/* where m (a comparison's lanes), a, else b */
INLINE V FN(select)(IV m, V a, V b) {
    return (V)(((IV)a & m) | ((IV)b & ~m));
}

/* e^x within 1 ulp in each lane, in REAL's precision: e^x = 2^n e^r with n = round(x / ln 2),
   |r| <= ln(2)/2 (ln 2 split in two parts so that r is exact), e^r by a polynomial (Cephes' expf for
   float, the Taylor series to r^13 for double); 2^n applied in two halves, so results down to the
   subnormals and up to overflow are right. Rounding by adding 1.5 2^(mantissa bits), which also leaves
   n in the low bits. No branch, no library call: 16 lanes at once. A NaN stays a NaN. */
INLINE V FN(vexp)(V x) {
    const int f32 = sizeof(REAL) == 4;
    const REAL lo = f32 ? (REAL)-104.0f : (REAL)-746.0, hi = f32 ? (REAL)89.0f : (REAL)710.0;
    const REAL magic = f32 ? (REAL)12582912.0f : (REAL)6755399441055744.0;
    const V zero = {0}, magic_v = zero + magic;
    V xc = FN(select)(x < lo, zero + lo, x);
    xc = FN(select)(xc > hi, zero + hi, xc);
    V t = xc * (REAL)1.4426950408889634 + magic;
    V n = t - magic;
    IV ni = (IV)t - (IV)magic_v, h = ni >> 1;
    V y;
    if (f32) {
        V r = (xc - n * (REAL)0.693359375f) - n * (REAL)-2.12194440e-4f;
        y = ((((((REAL)1.9875691500e-4f * r + (REAL)1.3981999507e-3f) * r + (REAL)8.3334519073e-3f) * r
              + (REAL)4.1665795894e-2f) * r + (REAL)1.6666665459e-1f) * r + (REAL)5.0000001201e-1f);
        y = y * (r * r) + r + (REAL)1;
    } else {
        V r = (xc - n * (REAL)6.93145751953125e-1) - n * (REAL)1.42860682030941723212e-6;
        y = zero + (REAL)(1.0 / 6227020800.0);
        y = y * r + (REAL)(1.0 / 479001600.0);
        y = y * r + (REAL)(1.0 / 39916800.0);
        y = y * r + (REAL)(1.0 / 3628800.0);
        y = y * r + (REAL)(1.0 / 362880.0);
        y = y * r + (REAL)(1.0 / 40320.0);
        y = y * r + (REAL)(1.0 / 5040.0);
        y = y * r + (REAL)(1.0 / 720.0);
        y = y * r + (REAL)(1.0 / 120.0);
        y = y * r + (REAL)(1.0 / 24.0);
        y = y * r + (REAL)(1.0 / 6.0);
        y = y * r + (REAL)0.5;
        y = y * r + (REAL)1;
        y = y * r + (REAL)1;
    }
    const int bits = f32 ? 23 : 52, bias = f32 ? 127 : 1023;
    V p1 = (V)((h + bias) << bits), p2 = (V)((ni - h + bias) << bits);
    return FN(select)(x != x, x, (y * p1) * p2);
}

/* sigma(z) of one block: 1 / (1 + e^-z) */
INLINE V FN(vsigmoid)(V z) {
    return (REAL)1 / ((REAL)1 + FN(vexp)(-z));
}

KERNEL static void FN(exp_all)(const REAL *restrict x, REAL *restrict out, int64_t n) {
    int64_t i = 0;
    for (; i + B <= n; i += B) {
        V v;
        memcpy(&v, x + i, sizeof v);
        v = FN(vexp)(v);
        memcpy(out + i, &v, sizeof v);
    }
    if (i < n) {  /* the rest, through one padded block */
        REAL tmp[B] = {0};
        memcpy(tmp, x + i, (n - i) * sizeof(REAL));
        V v;
        memcpy(&v, tmp, sizeof v);
        v = FN(vexp)(v);
        memcpy(out + i, &v, (n - i) * sizeof(REAL));
    }
}

/* the sum of x_q W[row q] over the 8 rows at w: a balanced tree, 8 products in flight */
INLINE V FN(rows8)(const REAL *restrict w, const REAL *restrict x) {
    return ((x[0] * CAT(w) + x[1] * CAT(w + B)) + (x[2] * CAT(w + 2 * B) + x[3] * CAT(w + 3 * B)))
           + ((x[4] * CAT(w + 4 * B) + x[5] * CAT(w + 5 * B)) + (x[6] * CAT(w + 6 * B) + x[7] * CAT(w + 7 * B)));
}

/* z = W a: out[0:width] = sum_p x[p] W(p, :), p < rows (a multiple of 8) */
INLINE void FN(matvec)(const REAL *restrict W, int64_t rows, int64_t width, const REAL *restrict x,
                       REAL *restrict out) {
    for (int64_t blk = 0; blk < width / B; blk++) {
        const REAL *base = W + blk * rows * B;
        V acc = {0};
        for (int64_t p = 0; p < rows; p += GROUP) acc += FN(rows8)(base + p * B, x + p);
        AT(out + blk * B) = acc;
    }
}

/* z = W x for the input layer, from the n inked pixels only: one row of 16 weights gathered per pixel,
   four sums in flight */
INLINE void FN(matvec_inked)(const REAL *restrict W, int64_t rows, int64_t width, const int32_t *restrict idx,
                             const REAL *restrict xv, int64_t n, REAL *restrict out) {
    for (int64_t blk = 0; blk < width / B; blk++) {
        const REAL *base = W + blk * rows * B;
        VP a0[NPIECES] = {{0}}, a1[NPIECES] = {{0}}, a2[NPIECES] = {{0}}, a3[NPIECES] = {{0}};  /* a block's sums, piece by piece */
        int64_t j = 0;
        for (; j + 3 < n; j += 4) {
            for (int h = 0; h < NPIECES; h++) {
                a0[h] += xv[j] * CVP(base + idx[j] + h * PIECE_LEN);
                a1[h] += xv[j + 1] * CVP(base + idx[j + 1] + h * PIECE_LEN);
                a2[h] += xv[j + 2] * CVP(base + idx[j + 2] + h * PIECE_LEN);
                a3[h] += xv[j + 3] * CVP(base + idx[j + 3] + h * PIECE_LEN);
            }
        }
        for (; j < n; j++)
            for (int h = 0; h < NPIECES; h++) a0[h] += xv[j] * CVP(base + idx[j] + h * PIECE_LEN);
        for (int h = 0; h < NPIECES; h++) AVP(out + blk * B + h * PIECE_LEN) = (a0[h] + a1[h]) + (a2[h] + a3[h]);
    }
}

/* rows q of the 8 rows at g += x_q d: one piece of dC/dW^T += a delta^T */
INLINE void FN(add_outer8)(REAL *restrict g, const REAL *restrict x, V d) {
    for (int q = 0; q < GROUP; q++) AT(g + q * B) += x[q] * d;
}

/* dC/dW^T += a delta^T: G(p, k) += x[p] D[k] */
INLINE void FN(outer)(REAL *restrict G, int64_t rows, int64_t width, const REAL *restrict x, const REAL *restrict D) {
    for (int64_t blk = 0; blk < width / B; blk++) {
        V d = CAT(D + blk * B);
        for (int64_t p = 0; p < rows; p += GROUP) FN(add_outer8)(G + (blk * rows + p) * B, x + p, d);
    }
}

/* G += c x delta^T for the input layer, on the rows of the inked pixels only: with c = 1, the example's
   dC_0/dW^T added to the gradient G; with G = W^T and c = -eta/m, its share of plain SGD's step */
INLINE void FN(outer_inked)(REAL *restrict G, int64_t rows, int64_t width, const int32_t *restrict idx,
                            const REAL *restrict xv, int64_t n, const REAL *restrict D, REAL c) {
    for (int64_t blk = 0; blk < width / B; blk++) {
        V d = c * CAT(D + blk * B);
        REAL *base = G + blk * rows * B;
        for (int64_t j = 0; j < n; j++) AT(base + idx[j]) += xv[j] * d;
    }
}

/* delta_prev = W^T delta from the untransposed copy: out[p] = sum_k Wn(k, p) D[k], 16 values of p at once
   (Wn(k, p) at ((p / 16) * KP + k) * 16 + p % 16), two sums in flight */
INLINE void FN(back_matvec)(const REAL *restrict Wn, int64_t rows, int64_t width, const REAL *restrict D,
                            REAL *restrict out) {
    for (int64_t pb = 0; pb < rows / B; pb++) {
        const REAL *w = Wn + pb * width * B;
        V acc = {0}, acc2 = {0};
        for (int64_t k = 0; k < width; k += 2) {
            acc += D[k] * CAT(w + k * B);
            acc2 += D[k + 1] * CAT(w + (k + 1) * B);
        }
        AT(out + pb * B) = acc + acc2;
    }
}

/* Wn = the untransposed copy of the layers after the first (for the backward pass), from W: tiles of
   16 x 16 transposed in registers, in four rounds that each swap one bit of the row and column indices
   (rows i and i + h exchange their halves of width h) */
INLINE void FN(transpose)(const REAL *restrict W, const int64_t *lay, int64_t L, REAL *restrict Wn) {
    IV lo[4], hi[4];  /* the two shuffles of each round, h = 8, 4, 2, 1 */
    for (int r = 0, h = B / 2; r < 4; r++, h /= 2)
        for (int c = 0; c < B; c++) {
            lo[r][c] = c & h ? B + c - h : c;
            hi[r][c] = c & h ? B + c : c + h;
        }
    for (int64_t l = 1; l < L; l++) {
        const int64_t *c = lay + l * LAY;
        const REAL *w = W + c[WO];
        REAL *wn = Wn + c[WO] - lay[LAY + WO];
        for (int64_t kb = 0; kb < c[KP] / B; kb++)
            for (int64_t pb = 0; pb < c[ROWS] / B; pb++) {
                if (sizeof(REAL) * B > 64) {  /* a tile of doubles: GCC would keep these vectors in memory */
                    for (int i = 0; i < B; i++)
                        for (int j = 0; j < B; j++)
                            wn[(pb * c[KP] + kb * B + i) * B + j] = w[(kb * c[ROWS] + pb * B + j) * B + i];
                    continue;
                }
                V t[B];
                for (int i = 0; i < B; i++) t[i] = CAT(w + (kb * c[ROWS] + pb * B + i) * B);
                for (int r = 0, h = B / 2; r < 4; r++, h /= 2)
                    for (int i = 0; i < B; i++)
                        if (!(i & h)) {
                            V x = t[i], y = t[i + h];
                            t[i] = __builtin_shuffle(x, y, lo[r]);
                            t[i + h] = __builtin_shuffle(x, y, hi[r]);
                        }
                for (int i = 0; i < B; i++) AT(wn + (pb * c[KP] + kb * B + i) * B) = t[i];
            }
    }
}

INLINE void FN(add_vec)(REAL *restrict out, const REAL *restrict x, int64_t n) {
    for (int64_t i = 0; i < n; i += B) AT(out + i) += CAT(x + i);
}

/* a = sigma(z) in place on A[0:k], a block at a time; the padding up to kp set to 0 */
INLINE void FN(sigma)(REAL *restrict A, int64_t k, int64_t kp, int hidden) {
    const V zero = {0};
    for (int64_t i = 0; i < kp; i += B) {
        V z = CAT(A + i);
        AT(A + i) = hidden == SIGMOID ? FN(vsigmoid)(z) : FN(select)(z <= 0, zero, z);  /* relu: max(z, 0), NaN stays */
    }
    for (int64_t i = k; i < kp; i++) A[i] = 0;
}

/* delta *= sigma'(z), from a = sigma(z): sigmoid a (1 - a); relu 1 where a > 0, else 0 */
INLINE void FN(sigma_prime_times)(REAL *restrict D, const REAL *restrict A, int64_t k, int64_t kp, int hidden) {
    const V zero = {0};
    for (int64_t i = 0; i < kp; i += B) {
        V d = CAT(D + i), a = CAT(A + i);
        AT(D + i) = hidden == SIGMOID ? d * (a * ((REAL)1 - a)) : FN(select)(a > 0, d, zero);
    }
    for (int64_t i = k; i < kp; i++) D[i] = 0;
}

/* the output activations in place: sigmoid (quadratic cost) or softmax (cross-entropy) */
INLINE void FN(output)(REAL *restrict A, int64_t k, int64_t kp, int cost) {
    if (cost == QUADRATIC) {
        for (int64_t i = 0; i < kp; i += B) AT(A + i) = FN(vsigmoid)(CAT(A + i));
    } else {
        REAL zmax = A[0], s = 0;
        for (int64_t i = 1; i < k; i++) zmax = A[i] > zmax ? A[i] : zmax;  /* subtracted first: no overflow */
        for (int64_t i = 0; i < kp; i += B) AT(A + i) = FN(vexp)(CAT(A + i) - zmax);
        for (int64_t i = 0; i < k; i++) s += A[i];
        for (int64_t i = 0; i < k; i++) A[i] = A[i] / s;
    }
    for (int64_t i = k; i < kp; i++) A[i] = 0;
}

/* the cost C_0 of the example with targets y (a double), and the output layer's delta = dC_0/dz_L */
INLINE double FN(output_delta)(const REAL *restrict y, int cost, const REAL *restrict A, REAL *restrict D,
                               int64_t k, int64_t kp) {
    double c = 0;
    if (cost == QUADRATIC) {  /* C_0 = sum_j (a_j - y_j)^2; delta = 2 (a - y) a (1 - a) */
        for (int64_t i = 0; i < k; i++) {
            REAL d = A[i] - y[i];
            c += (double)(d * d);
            D[i] = (d + d) * (A[i] * ((REAL)1 - A[i]));
        }
    } else {  /* C_0 = -sum_j y_j ln a_j (a clipped to [eps, 1]); with a softmax output, delta = a - y */
        const REAL eps = (REAL)1e-12;
        for (int64_t i = 0; i < k; i++) {
            REAL a = A[i] < eps ? eps : (A[i] > 1 ? 1 : A[i]);
            if (A[i] != A[i]) a = A[i];
            if (y[i] != 0) c -= (double)y[i] * log((double)a);
            D[i] = A[i] - y[i];
        }
    }
    for (int64_t i = k; i < kp; i++) D[i] = 0;
    return c;
}

/* The forward pass of example r: A = every layer's activations, the output last. Its inked pixels go to
   slot `slot` of the scratch's lists (for the backward pass and the step). */
INLINE void FN(forward1)(const FN(Net) *net, int64_t r, FN(Scratch) *s, int64_t slot) {
    const int64_t *lay = net->lay;
    int32_t *idx = s->idx + slot * net->ink_room;
    REAL *xv = s->xv + slot * net->ink_room;
    int64_t n = FN(inked_pixels)(net, r, idx, xv, s->raw);
    s->n_ink[slot] = n;
    FN(matvec_inked)(net->W + lay[WO], lay[ROWS], lay[KP], idx, xv, n, s->A + lay[AO]);
    FN(add_vec)(s->A + lay[AO], net->b + lay[AO], lay[KP]);
    for (int64_t l = 1; l < net->L; l++) {
        const int64_t *p = lay + (l - 1) * LAY, *c = lay + l * LAY;
        FN(sigma)(s->A + p[AO], p[K], p[KP], net->hidden);
        FN(matvec)(net->W + c[WO], c[ROWS], c[KP], s->A + p[AO], s->A + c[AO]);
        FN(add_vec)(s->A + c[AO], net->b + c[AO], c[KP]);
    }
    const int64_t *last = lay + (net->L - 1) * LAY;
    FN(output)(s->A + last[AO], last[K], last[KP], net->cost);
}

/* Backpropagate the output delta (in D), adding dC_0/dW^T to G and dC_0/db to Gb; with `direct`, the first
   layer's delta is kept in slot `slot` of D1 instead of its dC_0/dW^T being added (see sgd_serial). */
INLINE void FN(backward1)(const FN(Net) *net, FN(Scratch) *s, int64_t slot, int direct) {
    const int64_t *lay = net->lay;
    for (int64_t l = net->L - 1; l > 0; l--) {
        const int64_t *p = lay + (l - 1) * LAY, *c = lay + l * LAY;
        FN(outer)(s->G + c[WO], c[ROWS], c[KP], s->A + p[AO], s->D + c[AO]);
        FN(add_vec)(s->Gb + c[AO], s->D + c[AO], c[KP]);
        FN(back_matvec)(s->Wn + c[WO] - lay[LAY + WO], c[ROWS], c[KP], s->D + c[AO], s->D + p[AO]);
        FN(sigma_prime_times)(s->D + p[AO], s->A + p[AO], p[K], p[KP], net->hidden);
    }
    if (direct)
        memcpy(s->D1 + slot * lay[KP], s->D + lay[AO], lay[KP] * sizeof(REAL));
    else
        FN(outer_inked)(s->G + lay[WO], lay[ROWS], lay[KP], s->idx + slot * net->ink_room, s->xv + slot * net->ink_room,
                        s->n_ink[slot], s->D + lay[AO], 1);
    FN(add_vec)(s->Gb + lay[AO], s->D + lay[AO], lay[KP]);
}

/* The index of the largest of a[0:k], the first of equals (np.argmax's guess; a NaN counts as the largest) */
INLINE int64_t FN(argmax)(const REAL *a, int64_t k) {
    int64_t best = 0;
    for (int64_t i = 1; i < k; i++)
        if (a[i] > a[best] || (a[i] != a[i] && a[best] == a[best])) best = i;
    return best;
}

INLINE void FN(prefetch_example)(const FN(Net) *net, int64_t r) {
    const Images *im = net->im;
    if (im->start) {
        int64_t at = im->start[r], n = im->start[r + 1] - at, item = im->kind == U8 ? 1 : sizeof(REAL);
        prefetch_bytes(im->pix + at, n * 2);
        prefetch_bytes((const char *)im->val + at * item, n * item);
    } else {
        prefetch_bytes(im->X + r * im->n_cols * im->item, im->n_cols * im->item);
    }
    __builtin_prefetch(net->Y + r * net->lay[(net->L - 1) * LAY + K]);
}

/* The rest of example r's step after its forward pass (in s, its inked pixels in slot `slot`): whether it was
   guessed right (added to *good), its cost C_0 (returned) and its backward pass. */
INLINE double FN(after_forward)(const FN(Net) *net, FN(Scratch) *s, int64_t r, int64_t slot, int direct,
                                int64_t *good) {
    const int64_t *last = net->lay + (net->L - 1) * LAY;
    const REAL *y = net->Y + r * last[K];
    *good += FN(argmax)(s->A + last[AO], last[K]) == FN(argmax)(y, last[K]);
    double cost = FN(output_delta)(y, net->cost, s->A + last[AO], s->D + last[AO], last[K], last[KP]);
    FN(backward1)(net, s, slot, direct);
    return cost;
}

/* Forward and backward for the examples order[lo:hi], their gradients summed into s->G, s->Gb (with
   `direct`, example j's inked pixels and first-layer delta kept in slot j - lo). Returns the sum of the
   examples' costs C_0, and adds to *right how many were guessed right (the most activated output is the
   target's largest: the label), in the forward pass of their own step. With a second scratch s2 (its own
   activations and deltas; the gradients, the slots with `direct`, and Wn shared with s), two examples at a
   time: both forward passes, then both backward passes in order, so the same sums in the same order,
   with twice the independent work in flight (a float epoch at mini-batch 10 took 7% longer one by one). */
INLINE double FN(examples)(const FN(Net) *net, FN(Scratch) *s, FN(Scratch) *s2, int64_t lo, int64_t hi,
                           int64_t stop, int direct, int64_t *right) {
    double total = 0;
    int64_t good = 0;
    for (int64_t j = lo; j < hi; j += s2 ? 2 : 1) {
        int two = s2 && j + 1 < hi;
        for (int64_t q = j; q <= j + two; q++) {
            if (q + PREFETCH_AHEAD < stop) FN(prefetch_example)(net, net->order[q + PREFETCH_AHEAD]);
            if (net->im->start && q + 2 * PREFETCH_AHEAD < stop)  /* where that example's packed pixels start, in time */
                __builtin_prefetch(net->im->start + net->order[q + 2 * PREFETCH_AHEAD], 0, 3);
        }
        int64_t ra = net->order[j], rb = two ? net->order[j + 1] : 0;
        FN(forward1)(net, ra, s, direct ? j - lo : 0);
        if (two) FN(forward1)(net, rb, s2, direct ? j + 1 - lo : 0);
        total += FN(after_forward)(net, s, ra, direct ? j - lo : 0, direct, &good);
        if (two) total += FN(after_forward)(net, s2, rb, direct ? j + 1 - lo : 0, direct, &good);
    }
    *right += good;
    return total;
}

/* The step on [lo, hi) (whole blocks) from the gradient G = G[0] + G[1] + ... + G[S - 1], summed in that order:
   v = mu v - eta (G/m + lambda W); W += v (plain SGD: W -= eta G/m); then G[t] = 0 there for each t in the
   bits of `zero` (the others are zeroed by their own threads: see sgd_thread). One pass whatever the number
   of gradients (the threads' shares), a block at a time. */
INLINE void FN(step)(REAL *restrict W, REAL *restrict vW, REAL *const *G, int S, uint64_t zero, int64_t lo,
                     int64_t hi, REAL m, REAL eta, REAL mu, REAL lam) {
    const V none = {0};
    for (int64_t i = lo; i < hi; i += B) {
        V g = CAT(G[0] + i);
        for (int t = 1; t < S; t++) g += CAT(G[t] + i);
        for (int t = 0; t < S; t++)
            if (zero >> t & 1) AT(G[t] + i) = none;
        g = g / m;
        if (mu != 0) {
            if (lam != 0) g = g + lam * CAT(W + i);
            V v = mu * CAT(vW + i) - eta * g;
            AT(vW + i) = v;
            AT(W + i) += v;
        } else if (lam != 0) {
            AT(W + i) -= eta * (g + lam * CAT(W + i));
        } else {
            AT(W + i) -= eta * g;
        }
    }
}

/* The scratch of `shares` shares in one arena, room for the inked pixels of `slots` examples each (NULL
   base: just measure). */
static void FN(place)(Arena *a, const FN(Net) *net, FN(Scratch) *s, int shares, int gradients, int64_t slots,
                      int partner) {
    for (int t = 0; t < shares; t++) {
        s[t].A = arena_take(a, net->n_a * sizeof(REAL), 1536);
        s[t].xv = arena_take(a, slots * net->ink_room * sizeof(REAL), 768);
        s[t].idx = arena_take(a, slots * net->ink_room * sizeof(int32_t), 3840);
        s[t].n_ink = arena_take(a, slots * sizeof(int64_t), 256);
        s[t].raw = arena_take(a, net->ink_room * sizeof(uint64_t), 1280);
        if (gradients) {
            s[t].Wn = arena_take(a, (net->n_w - (net->L > 1 ? net->lay[LAY + WO] : net->n_w)) * sizeof(REAL), 1024);
            s[t].D = arena_take(a, net->n_a * sizeof(REAL), 2560);
            s[t].Gb = arena_take(a, net->n_a * sizeof(REAL), 3328);
            s[t].G = arena_take(a, net->n_w * sizeof(REAL), 2048);
            s[t].D1 = arena_take(a, slots * net->lay[KP] * sizeof(REAL), 2816);
        }
    }
    for (int t = 0; partner && t < shares; t++) {  /* s[shares + t]: share t's second example (see examples): its
                       own activations, deltas and scan, its own inked pixels unless they have slots in s[t]; the rest s[t]'s */
        FN(Scratch) *p = s + shares + t;
        *p = s[t];
        p->A = arena_take(a, net->n_a * sizeof(REAL), 1536);
        p->D = arena_take(a, net->n_a * sizeof(REAL), 2560);
        p->raw = arena_take(a, net->ink_room * sizeof(uint64_t), 1280);
        if (slots == 1) {
            p->xv = arena_take(a, net->ink_room * sizeof(REAL), 768);
            p->idx = arena_take(a, net->ink_room * sizeof(int32_t), 3840);
            p->n_ink = arena_take(a, sizeof(int64_t), 256);
        }
    }
}

static char *FN(scratch)(const FN(Net) *net, FN(Scratch) *s, int shares, int gradients, int64_t slots,
                         int partner) {
    Arena a = {NULL, 0};
    FN(place)(&a, net, s, shares, gradients, slots, partner);
    size_t bytes = a.used;
    void *base = NULL;
    if (posix_memalign(&base, 4096, bytes + 64)) return NULL;
    memset(base, 0, bytes + 64);
    a = (Arena){base, 0};
    FN(place)(&a, net, s, shares, gradients, slots, partner);
    return base;
}

static void FN(init_net)(FN(Net) *net, const Images *im, int hidden, int cost, const int64_t *lay,
                         int64_t L, REAL *W, REAL *b) {
    const int64_t *last = lay + (L - 1) * LAY;
    *net = (FN(Net)){.im = im, .lay = lay, .L = L, .hidden = hidden, .cost = cost, .W = W, .b = b};
    net->n_w = last[WO] + last[ROWS] * last[KP];
    net->n_a = last[AO] + last[KP];
    net->ink_room = lay[ROWS] + INK_SLACK;
}

/* -- SGD on one thread: mini-batches below engine.PARALLEL_MIN_BATCH ------------------------------------ */

/* Plain SGD (no momentum, no weight decay) on mini-batches of at most DIRECT_MAX steps the first layer
   straight from each example's inked pixels and delta, W^T += (-eta/m) x delta^T, after the mini-batch's
   forward and backward passes (which all read the weights before the step): no gradient to sum, zero
   and step, and only the rows of inked pixels are touched. */
KERNEL static void FN(sgd_serial)(const FN(Net) *net, FN(Scratch) *s, FN(Scratch) *s2, int64_t start, int64_t stop,
                                  int64_t batch, double *total, int64_t *right) {
    const int64_t *lay = net->lay;
    int direct = net->mu == 0 && net->lam == 0 && batch <= DIRECT_MAX;
    FN(transpose)(net->W, lay, net->L, s->Wn);
    for (int64_t s0 = start; s0 < stop; s0 += batch) {
        int64_t e = s0 + batch < stop ? s0 + batch : stop;
        REAL m = (REAL)(e - s0);
        *total += FN(examples)(net, s, s2, s0, e, stop, direct, right);
        if (direct)
            for (int64_t i = 0; i < e - s0; i++)
                FN(outer_inked)(net->W + lay[WO], lay[ROWS], lay[KP], s->idx + i * net->ink_room, s->xv + i * net->ink_room,
                                s->n_ink[i], s->D1 + i * lay[KP], -net->eta / m);
        for (int64_t l = 0; l < net->L; l++) {
            const int64_t *c = lay + l * LAY;
            if (l > 0 || !direct)
                FN(step)(net->W, net->vW, &s->G, 1, 1, c[WO], c[WO] + c[ROWS] * c[KP], m, net->eta, net->mu, net->lam);
            FN(step)(net->b, net->vb, &s->Gb, 1, 1, c[AO], c[AO] + c[KP], m, net->eta, net->mu, 0);  /* b not decayed */
        }
        FN(transpose)(net->W, lay, net->L, s->Wn);
    }
}

/* -- SGD with each mini-batch's examples cut into shares, on threads ------------------------------------ */

/* Where slice u of S of n parameters starts (whole blocks; slice S: the end), for the step on threads */
INLINE int64_t FN(slice_at)(int64_t n, int S, int u) {
    return u == S ? n : (int64_t)u * n / S / B * B;
}

typedef struct {
    const FN(Net) *net;
    FN(Scratch) *s;  /* the shares' scratch, then (with pairs) each share's second example's */
    int shares, pairs;
    int64_t start, stop, batch;
    double *costs;
    int64_t *rights;
    Barrier bar;
} FN(Job);

KERNEL static void FN(sgd_thread)(void *arg, int t, int threads) {
    FN(Job) *job = arg;
    const FN(Net) *net = job->net;
    int S = job->shares;
    REAL *G[MAX_SHARES], *Gb[MAX_SHARES];  /* the shares' gradients, summed in share order by step */
    for (int sh = 0; sh < S; sh++) {
        G[sh] = job->s[sh].G;
        Gb[sh] = job->s[sh].Gb;
    }
    uint64_t own = 0;  /* this thread's shares */
    for (int sh = t; sh < S; sh += threads) own |= (uint64_t)1 << sh;
    for (int64_t s0 = job->start; s0 < job->stop; s0 += job->batch) {
        int64_t e = s0 + job->batch < job->stop ? s0 + job->batch : job->stop, m = e - s0;
        for (int sh = t; sh < S; sh += threads) {
            if (s0 > job->start)  /* its gradient where the other threads stepped: they read it, but only its
                 own thread writes it, so that it stays in this core's cache (when another core zeroed it, the
                 first example's sums fetched each of those lines back) */
                for (int u = 0; u < S; u++)
                    if (u % threads != t) {
                        int64_t lo = FN(slice_at)(net->n_w, S, u), hi = FN(slice_at)(net->n_w, S, u + 1);
                        memset(G[sh] + lo, 0, (hi - lo) * sizeof(REAL));
                    }
            FN(transpose)(net->W, net->lay, net->L, job->s[sh].Wn);
            job->costs[sh] += FN(examples)(net, &job->s[sh], job->pairs ? &job->s[S + sh] : NULL, s0 + sh * m / S,
                                           s0 + (sh + 1) * m / S, job->stop, 0, &job->rights[sh]);
        }
        barrier_wait(&job->bar);
        for (int sh = t; sh < S; sh += threads) {  /* slice sh of the weights */
            FN(step)(net->W, net->vW, G, S, own, FN(slice_at)(net->n_w, S, sh), FN(slice_at)(net->n_w, S, sh + 1), (REAL)m,
                     net->eta, net->mu, net->lam);
            if (sh == 0) FN(step)(net->b, net->vb, Gb, S, ~(uint64_t)0, 0, net->n_a, (REAL)m, net->eta, net->mu, 0);
        }
        barrier_wait(&job->bar);
    }
}

static int FN(sgd)(const Images *im, const REAL *Y, const int64_t *order, int64_t start, int64_t stop, int64_t batch,
                   double eta, double mu, double lam, int hidden, int cost, const int64_t *lay,
                   int64_t L, REAL *W, REAL *b, REAL *vW, REAL *vb, int shares, int threads, double *total,
                   int64_t *right) {
    FN(Net) net;
    FN(init_net)(&net, im, hidden, cost, lay, L, W, b);
    net.vW = vW;
    net.vb = vb;
    net.Y = Y;
    net.order = order;
    net.eta = (REAL)eta;
    net.mu = (REAL)mu;
    net.lam = (REAL)lam;
    FN(Scratch) s[MAX_SHARES];
    double costs[MAX_SHARES] = {0};
    int64_t rights[MAX_SHARES] = {0};
    int64_t slots = shares == 1 && mu == 0 && lam == 0 && batch <= DIRECT_MAX ? batch : 1;
    /* examples two at a time, for floats (a pair of double-precision examples spills more vectors to memory
       than it gains: 2% slower): share t's second example in s[shares + t] */
    int pairs = sizeof(REAL) == 4 && 2 * shares <= MAX_SHARES;
    char *base = FN(scratch)(&net, s, shares, 1, slots, pairs);
    if (!base) return -1;
    if (shares == 1) {
        FN(sgd_serial)(&net, s, pairs ? s + 1 : NULL, start, stop, batch, &costs[0], &rights[0]);
    } else {
        FN(Job) job = {&net, s, shares, pairs, start, stop, batch, costs, rights, {0, 0, 0}};
        run_threads(FN(sgd_thread), &job, threads < shares ? threads : shares, &job.bar);
    }
    for (int t = 0; t < shares; t++) {
        *total += costs[t];
        *right += rights[t];
    }
    free(base);
    return 0;
}

/* -- the forward pass of many images, on threads ---------------------------------------------------------- */

typedef struct {
    const FN(Net) *net;
    FN(Scratch) *s;
    REAL *out;
} FN(Predict);

KERNEL static void FN(forward_thread)(void *arg, int t, int threads) {
    FN(Predict) *job = arg;
    const FN(Net) *net = job->net;
    const int64_t *last = net->lay + (net->L - 1) * LAY;
    int64_t N = net->im->N, lo = N * t / threads, hi = N * (t + 1) / threads, k = last[K];
    for (int64_t i = lo; i < hi; i++) {
        if (i + PREFETCH_AHEAD < hi) {
            const char *row = (const char *)net->im->X + (i + PREFETCH_AHEAD) * net->im->n_cols * net->im->item;
            prefetch_bytes(row, net->im->n_cols * net->im->item);
        }
        FN(forward1)(net, i, &job->s[t], 0);
        memcpy(job->out + i * k, job->s[t].A + last[AO], k * sizeof(REAL));
    }
}

static int FN(forward)(const Images *im, int hidden, int cost, const int64_t *lay, int64_t L,
                       REAL *W, REAL *b, REAL *out, int threads) {
    FN(Net) net;
    FN(init_net)(&net, im, hidden, cost, lay, L, W, b);
    FN(Scratch) s[MAX_SHARES];
    if (threads > MAX_SHARES) threads = MAX_SHARES;
    char *base = FN(scratch)(&net, s, threads, 0, 1, 0);
    if (!base) return -1;
    FN(Predict) job = {&net, s, out};
    run_threads(FN(forward_thread), &job, threads, NULL);
    free(base);
    return 0;
}

/* Whether every brightness in v[0:n] is k / 255 for a byte k >= 1, correctly rounded and bit for bit (so not
   -0.0, which is ink, a NaN or 2), each k written into o; over every value, no early exit, so that the
   loop can run in vectors. */
KERNEL static int FN(bytes)(const REAL *restrict v, uint8_t *restrict o, int64_t n) {
    int bad = 0;
    for (int64_t i = 0; i < n; i++) {
        int k = v[i] >= 0 && v[i] <= 1 ? (int)(v[i] * (REAL)255 + (REAL)0.5) : 0;
        REAL back = FN(byte)[k];
        IREAL a, b;
        memcpy(&a, &back, sizeof(REAL));
        memcpy(&b, v + i, sizeof(REAL));
        bad |= (k < 1) | (a != b);
        o[i] = (uint8_t)k;
    }
    return !bad;
}

#undef V
#undef IV
#undef AT
#undef CAT
#undef VP
#undef NPIECES
#undef PIECE_LEN
#undef CVP
#undef AVP
#endif
