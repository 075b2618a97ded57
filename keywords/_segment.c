/* keywords._segment: jieba's dictionary-mode word graph, compiled, for keywords.tokenizer's boundary check.
 *
 * Both functions read jieba's prefix dictionary (``Tokenizer.FREQ``: every word with its count, and every
 * prefix of a word with count 0) and follow jieba's code step for step:
 *
 *   nothing_crosses(text, boundary, freq, longest, reach) -> whether no dictionary word of text starts
 *       before ``boundary`` and ends after it (jieba's word graph then has no edge across it); False when
 *       ASCII characters touch on both sides (jieba joins those runs on its own). ``reach`` (bytes, one per
 *       BMP character) is the length of the longest dictionary entry starting with that character, capped
 *       at 255: a start from which no entry can reach past the boundary is not looked up;
 *   block_boundaries(block, freq, logtotal) -> the token boundaries (ends of tokens) jieba's
 *       ``__cut_DAG_NO_HMM`` gives one block of ``re_han_default`` characters: the best route through the word
 *       graph, found right to left with jieba's arithmetic (log(count or 1) - logtotal + route of the rest, in
 *       doubles, ties going to the larger end as with Python's max over (value, end) pairs), then single ASCII
 *       letters and digits on the route joined into one token.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>

/* freq[text[start:end]] as a new reference, NULL with no exception when absent, NULL with one on error. */
static PyObject *
lookup(PyObject *freq, PyObject *text, Py_ssize_t start, Py_ssize_t end)
{
    PyObject *piece = PyUnicode_Substring(text, start, end);
    if (piece == NULL)
        return NULL;
    PyObject *count = PyDict_GetItemWithError(freq, piece);
    Py_DECREF(piece);
    Py_XINCREF(count);
    return count;
}

static PyObject *
nothing_crosses(PyObject *module, PyObject *args)
{
    PyObject *text, *freq;
    Py_ssize_t boundary, longest;
    Py_buffer reach;
    if (!PyArg_ParseTuple(args, "UnO!ny*", &text, &boundary, &PyDict_Type, &freq, &longest, &reach))
        return NULL;
    if (reach.len != 0x10000) {
        PyBuffer_Release(&reach);
        PyErr_SetString(PyExc_ValueError, "reach must have one byte per BMP character");
        return NULL;
    }
    const uint8_t *reach_of = reach.buf;
    PyObject *result = NULL;
    const Py_ssize_t size = PyUnicode_GET_LENGTH(text);
    if (boundary <= 0 || boundary >= size) {
        result = Py_True;
        goto done;
    }
    if (PyUnicode_READ_CHAR(text, boundary - 1) < 0x80 && PyUnicode_READ_CHAR(text, boundary) < 0x80) {
        result = Py_False;
        goto done;
    }
    Py_ssize_t from = boundary - longest + 1 > 0 ? boundary - longest + 1 : 0;
    for (Py_ssize_t i = from; i < boundary; i++) {
        Py_UCS4 first = PyUnicode_READ_CHAR(text, i);
        if (first < 0x10000 && reach_of[first] < 255 && i + reach_of[first] <= boundary)
            continue;  /* no entry starting with this character is long enough to pass the boundary */
        for (Py_ssize_t j = boundary + 1; j <= size; j++) {
            PyObject *count = lookup(freq, text, i, j);
            if (count == NULL) {
                if (PyErr_Occurred())
                    goto done;
                break;  /* not even a prefix: no longer piece from i is a word */
            }
            int word = PyObject_IsTrue(count);
            Py_DECREF(count);
            if (word < 0)
                goto done;
            if (word) {
                result = Py_False;
                goto done;
            }
        }
    }
    result = Py_True;
done:
    PyBuffer_Release(&reach);
    return Py_XNewRef(result);
}

static int
is_ascii_alnum(Py_UCS4 ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static PyObject *
block_boundaries(PyObject *module, PyObject *args)
{
    PyObject *block, *freq;
    double logtotal;
    if (!PyArg_ParseTuple(args, "UO!d", &block, &PyDict_Type, &freq, &logtotal))
        return NULL;
    const Py_ssize_t size = PyUnicode_GET_LENGTH(block);
    double *score = PyMem_Malloc(sizeof(double) * (size_t)(size + 1));
    Py_ssize_t *ends = PyMem_Malloc(sizeof(Py_ssize_t) * (size_t)(size + 1));
    if (score == NULL || ends == NULL) {
        PyMem_Free(score);
        PyMem_Free(ends);
        return PyErr_NoMemory();
    }
    score[size] = 0.0;
    ends[size] = size;
    for (Py_ssize_t k = size - 1; k >= 0; k--) {
        int found = 0;
        double best = 0.0;
        Py_ssize_t best_end = k;
        for (Py_ssize_t i = k; i < size; i++) {
            PyObject *count = lookup(freq, block, k, i + 1);
            if (count == NULL) {
                if (PyErr_Occurred())
                    goto error;
                break;
            }
            double value = PyLong_Check(count) ? PyLong_AsDouble(count) : PyFloat_AsDouble(count);
            Py_DECREF(count);
            if (value == -1.0 && PyErr_Occurred())
                goto error;
            if (value != 0.0) {
                double candidate = log(value) - logtotal + score[i + 1];
                if (!found || candidate > best || (candidate == best && i > best_end)) {
                    best = candidate;
                    best_end = i;
                    found = 1;
                }
            }
        }
        if (!found) {  /* no word starts here: the character alone, log(1) = 0 */
            best = log(1.0) - logtotal + score[k + 1];
            best_end = k;
        }
        score[k] = best;
        ends[k] = best_end;
    }
    PyObject *out = PyList_New(0);
    if (out == NULL)
        goto error;
    int joined = 0;  /* single ASCII letters or digits being joined into one token */
    for (Py_ssize_t x = 0; x < size;) {
        Py_ssize_t y = ends[x] + 1;
        Py_ssize_t cut[2];
        int cuts = 0;
        if (y - x == 1 && is_ascii_alnum(PyUnicode_READ_CHAR(block, x))) {
            joined = 1;
        } else {
            if (joined) {
                cut[cuts++] = x;
                joined = 0;
            }
            cut[cuts++] = y;
        }
        for (int c = 0; c < cuts; c++) {
            PyObject *position = PyLong_FromSsize_t(cut[c]);
            if (position == NULL || PyList_Append(out, position) < 0) {
                Py_XDECREF(position);
                Py_DECREF(out);
                goto error;
            }
            Py_DECREF(position);
        }
        x = y;
    }
    PyMem_Free(score);
    PyMem_Free(ends);
    return out;
error:
    PyMem_Free(score);
    PyMem_Free(ends);
    return NULL;
}

static PyMethodDef module_methods[] = {
    {"nothing_crosses", nothing_crosses, METH_VARARGS,
     "nothing_crosses(text, boundary, freq, longest) -> whether no dictionary word spans the boundary."},
    {"block_boundaries", block_boundaries, METH_VARARGS,
     "block_boundaries(block, freq, logtotal) -> token ends of jieba's dictionary-mode cut of one block."},
    {NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "keywords._segment",
    .m_doc = PyDoc_STR("jieba's dictionary-mode word graph, compiled (see keywords.tokenizer)."),
    .m_size = -1,
    .m_methods = module_methods,
};

PyMODINIT_FUNC
PyInit__segment(void)
{
    return PyModule_Create(&module);
}
