/* keywords._fold: the per-character passes of keywords.normalisation, compiled.
 *
 * keywords.normalisation decides what every character folds to and keeps the answers in per-code-point tables
 * (numpy arrays: the fold, its length, whether the skeleton removes it, whether t2s converts it). A `Folder`
 * holds those tables and applies them to a page in single passes over the str's own storage:
 *
 *   fold(text)            -> (folded, index, traditional) or None when a character expands to several
 *                            (those pages take the numpy path); ``index`` (bytes of int64, or None for the
 *                            identity) gives each folded character's index in text; ``traditional`` tells
 *                            whether t2s has anything to convert;
 *   skeleton(folded, index) -> (skeleton, skeleton_index, latin_runs): the characters the skeleton keeps, the
 *                            index in the original text of each (through ``index`` when given), and the
 *                            [start, end) of every run of at least two letters a-z in the skeleton;
 *   number_runs(folded) -> the digits view: in every number-like run (at least five digit characters, at most
 *                            three separators between neighbours: the maximal chains that keywords.
 *                            normalisation's _NUMBER_RUN regex matches), Chinese digits become ASCII digits
 *                            (the same str when there is nothing to map).
 *
 * The tables decide every result; this module decides nothing on its own. One more pass, for
 * keywords.contacts: digit_chains(view, min_digits, max_gap) finds the spans the regex
 * "[0-9](?:[^0-9]{0,max_gap}[0-9]){min_digits - 1,}" finds (maximal chains of ASCII digits, at most
 * ``max_gap`` other characters between neighbours, with at least ``min_digits`` digits), and
 * char_positions(text, chars) the index of every character of text that is one of ``chars``.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

enum { OTHER = 0, ASCII_DIGIT = 1, CHINESE_DIGIT = 2, SEPARATOR = 3 };

typedef struct {
    PyObject_HEAD
    Py_buffer fold;         /* uint32 per code point */
    Py_buffer length;       /* uint8 per code point */
    Py_buffer removed;      /* bool per code point */
    Py_buffer traditional;  /* bool per code point */
    int ready;
    uint8_t digit_kind[0x10000];
    Py_UCS4 digit_value[0x10000];  /* the ASCII digit of each Chinese digit */
} Folder;

static void
Folder_dealloc(Folder *self)
{
    if (self->ready) {
        PyBuffer_Release(&self->fold);
        PyBuffer_Release(&self->length);
        PyBuffer_Release(&self->removed);
        PyBuffer_Release(&self->traditional);
    }
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int
get_table(PyObject *array, Py_buffer *view, Py_ssize_t itemsize, const char *name)
{
    if (PyObject_GetBuffer(array, view, PyBUF_C_CONTIGUOUS) < 0)
        return -1;
    if (view->itemsize != itemsize || view->len != itemsize * (Py_ssize_t)(0x10FFFF + 1)) {
        PyErr_Format(PyExc_ValueError, "%s: expected one item of %zd bytes per code point", name, itemsize);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

static int
mark(uint8_t *kinds, PyObject *chars, uint8_t kind)
{
    if (!PyUnicode_Check(chars)) {
        PyErr_SetString(PyExc_TypeError, "characters must be given as a str");
        return -1;
    }
    for (Py_ssize_t i = 0; i < PyUnicode_GET_LENGTH(chars); i++) {
        Py_UCS4 ch = PyUnicode_READ_CHAR(chars, i);
        if (ch >= 0x10000) {
            PyErr_SetString(PyExc_ValueError, "digit and separator characters must be in the BMP");
            return -1;
        }
        kinds[ch] = kind;
    }
    return 0;
}

/* Folder(fold, length, removed, traditional, chinese_digits: str, digit_values: str, separators: str):
 * chinese_digits[i] stands for the ASCII digit digit_values[i]. */
static int
Folder_init(Folder *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"fold",           "length",       "removed",    "traditional",
                             "chinese_digits", "digit_values", "separators", NULL};
    PyObject *fold, *length, *removed, *traditional, *chinese, *values, *separators;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OOOOUUU", kwlist, &fold, &length, &removed, &traditional,
                                     &chinese, &values, &separators))
        return -1;
    if (PyUnicode_GET_LENGTH(values) != PyUnicode_GET_LENGTH(chinese)) {
        PyErr_SetString(PyExc_ValueError, "one digit value per Chinese digit");
        return -1;
    }
    if (self->ready) {
        PyErr_SetString(PyExc_RuntimeError, "Folder is already built");
        return -1;
    }
    if (get_table(fold, &self->fold, 4, "fold") < 0)
        return -1;
    if (get_table(length, &self->length, 1, "length") < 0) {
        PyBuffer_Release(&self->fold);
        return -1;
    }
    if (get_table(removed, &self->removed, 1, "removed") < 0) {
        PyBuffer_Release(&self->fold);
        PyBuffer_Release(&self->length);
        return -1;
    }
    if (get_table(traditional, &self->traditional, 1, "traditional") < 0) {
        PyBuffer_Release(&self->fold);
        PyBuffer_Release(&self->length);
        PyBuffer_Release(&self->removed);
        return -1;
    }
    self->ready = 1;
    memset(self->digit_kind, OTHER, sizeof(self->digit_kind));
    for (Py_UCS4 ch = '0'; ch <= '9'; ch++)
        self->digit_kind[ch] = ASCII_DIGIT;
    if (mark(self->digit_kind, chinese, CHINESE_DIGIT) < 0 || mark(self->digit_kind, separators, SEPARATOR) < 0)
        return -1;
    for (Py_ssize_t i = 0; i < PyUnicode_GET_LENGTH(chinese); i++)
        self->digit_value[PyUnicode_READ_CHAR(chinese, i)] = PyUnicode_READ_CHAR(values, i);
    return 0;
}

static int
check(Folder *self, PyObject *text)
{
    if (!self->ready) {
        PyErr_SetString(PyExc_RuntimeError, "Folder is not built");
        return -1;
    }
    if (!PyUnicode_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "text must be a str");
        return -1;
    }
    return 0;
}

static PyObject *
Folder_fold(Folder *self, PyObject *text)
{
    if (check(self, text) < 0)
        return NULL;
    const Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    const int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    const uint32_t *fold = self->fold.buf;
    const uint8_t *length = self->length.buf;
    const uint8_t *traditional = self->traditional.buf;
    Py_UCS4 *out = PyMem_Malloc(sizeof(Py_UCS4) * (size_t)(n ? n : 1));
    int64_t *index = PyMem_Malloc(sizeof(int64_t) * (size_t)(n ? n : 1));
    if (out == NULL || index == NULL) {
        PyMem_Free(out);
        PyMem_Free(index);
        return PyErr_NoMemory();
    }
    Py_ssize_t m = 0;
    int identity = 1, has_traditional = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 ch = PyUnicode_READ(kind, data, i);
        uint8_t len = length[ch];
        if (len == 1) {
            Py_UCS4 folded = fold[ch];
            has_traditional |= traditional[folded];
            out[m] = folded;
            index[m++] = i;
        } else if (len == 0) {
            identity = 0;
        } else {
            PyMem_Free(out);
            PyMem_Free(index);
            Py_RETURN_NONE;  /* an expansion (⑸ -> "(5)"): the numpy path handles the page */
        }
    }
    PyObject *folded = PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, out, m);
    PyMem_Free(out);
    PyObject *indices = identity ? Py_NewRef(Py_None) : PyBytes_FromStringAndSize((const char *)index, m * 8);
    PyMem_Free(index);
    if (folded == NULL || indices == NULL) {
        Py_XDECREF(folded);
        Py_XDECREF(indices);
        return NULL;
    }
    return Py_BuildValue("(NNO)", folded, indices, has_traditional ? Py_True : Py_False);
}

static PyObject *
Folder_skeleton(Folder *self, PyObject *args)
{
    PyObject *folded, *indices;
    if (!PyArg_ParseTuple(args, "UO", &folded, &indices))
        return NULL;
    if (check(self, folded) < 0)
        return NULL;
    const Py_ssize_t n = PyUnicode_GET_LENGTH(folded);
    const int64_t *index = NULL;
    if (indices != Py_None) {
        if (!PyBytes_Check(indices) || PyBytes_GET_SIZE(indices) != n * 8) {
            PyErr_SetString(PyExc_ValueError, "index must be None or 8 bytes per folded character");
            return NULL;
        }
        index = (const int64_t *)PyBytes_AS_STRING(indices);
    }
    const int kind = PyUnicode_KIND(folded);
    const void *data = PyUnicode_DATA(folded);
    const uint8_t *removed = self->removed.buf;
    Py_UCS4 *out = PyMem_Malloc(sizeof(Py_UCS4) * (size_t)(n ? n : 1));
    int64_t *kept = PyMem_Malloc(sizeof(int64_t) * (size_t)(n ? n : 1));
    if (out == NULL || kept == NULL) {
        PyMem_Free(out);
        PyMem_Free(kept);
        return PyErr_NoMemory();
    }
    PyObject *runs = PyList_New(0);
    if (runs == NULL) {
        PyMem_Free(out);
        PyMem_Free(kept);
        return NULL;
    }
    Py_ssize_t m = 0, run = -1; /* run: skeleton index where the current run of a-z began, or -1 */
    for (Py_ssize_t i = 0; i <= n; i++) {
        Py_UCS4 ch = 0;
        if (i < n) {
            ch = PyUnicode_READ(kind, data, i);
            if (removed[ch])
                continue;
        }
        int letter = ch >= 'a' && ch <= 'z';
        if (letter && run < 0) {
            run = m;
        } else if (!letter && run >= 0) {
            if (m - run >= 2) {
                PyObject *span = Py_BuildValue("(nn)", run, m);
                if (span == NULL || PyList_Append(runs, span) < 0) {
                    Py_XDECREF(span);
                    Py_DECREF(runs);
                    PyMem_Free(out);
                    PyMem_Free(kept);
                    return NULL;
                }
                Py_DECREF(span);
            }
            run = -1;
        }
        if (i < n) {
            out[m] = ch;
            kept[m++] = index ? index[i] : i;
        }
    }
    PyObject *skeleton = PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, out, m);
    PyMem_Free(out);
    PyObject *kept_bytes = PyBytes_FromStringAndSize((const char *)kept, m * 8);
    PyMem_Free(kept);
    if (skeleton == NULL || kept_bytes == NULL) {
        Py_XDECREF(skeleton);
        Py_XDECREF(kept_bytes);
        Py_DECREF(runs);
        return NULL;
    }
    return Py_BuildValue("(NNN)", skeleton, kept_bytes, runs);
}

static PyObject *
Folder_number_runs(Folder *self, PyObject *folded)
{
    if (check(self, folded) < 0)
        return NULL;
    const Py_ssize_t n = PyUnicode_GET_LENGTH(folded);
    const int kind = PyUnicode_KIND(folded);
    const void *data = PyUnicode_DATA(folded);
    const uint8_t *kinds = self->digit_kind;
    /* The runs to map: [first, last] of every maximal chain of digit characters (neighbours at most three
     * separators apart) that has at least five digits and a Chinese one among them. */
    Py_ssize_t *runs = NULL, count = 0, capacity = 0;
    Py_ssize_t first = -1, last = -1, digits = 0;
    int chinese = 0, gap = 0;
    for (Py_ssize_t i = 0; i <= n; i++) {
        uint8_t k = OTHER;
        if (i < n) {
            Py_UCS4 ch = PyUnicode_READ(kind, data, i);
            k = ch < 0x10000 ? kinds[ch] : OTHER;
        }
        if (k == ASCII_DIGIT || k == CHINESE_DIGIT) {
            if (first < 0) {
                first = i;
                digits = 0;
                chinese = 0;
            }
            last = i;
            digits++;
            chinese |= k == CHINESE_DIGIT;
            gap = 0;
            continue;
        }
        if (k == SEPARATOR && first >= 0 && ++gap <= 3)
            continue;
        /* the chain (if any) ends at ``last`` */
        if (first >= 0 && digits >= 5 && chinese) {
            if (count == capacity) {
                capacity = capacity ? 2 * capacity : 16;
                Py_ssize_t *grown = PyMem_Realloc(runs, sizeof(Py_ssize_t) * 2 * (size_t)capacity);
                if (grown == NULL) {
                    PyMem_Free(runs);
                    return PyErr_NoMemory();
                }
                runs = grown;
            }
            runs[2 * count] = first;
            runs[2 * count + 1] = last;
            count++;
        }
        first = -1;
        gap = 0;
    }
    if (count == 0)
        return Py_NewRef(folded);
    Py_UCS4 *out = PyUnicode_AsUCS4Copy(folded);
    if (out == NULL) {
        PyMem_Free(runs);
        return NULL;
    }
    for (Py_ssize_t r = 0; r < count; r++) {
        for (Py_ssize_t i = runs[2 * r]; i <= runs[2 * r + 1]; i++) {
            if (out[i] < 0x10000 && kinds[out[i]] == CHINESE_DIGIT)
                out[i] = self->digit_value[out[i]];
        }
    }
    PyMem_Free(runs);
    PyObject *mapped = PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, out, n);
    PyMem_Free(out);
    return mapped;
}

static PyMethodDef Folder_methods[] = {
    {"fold", (PyCFunction)Folder_fold, METH_O,
     "fold(text) -> (folded, index bytes or None, has traditional) or None when a character expands."},
    {"skeleton", (PyCFunction)Folder_skeleton, METH_VARARGS,
     "skeleton(folded, index) -> (skeleton, bytes of the int64 original index of each skeleton character, "
     "[start, end) of every run of at least two letters a-z)."},
    {"number_runs", (PyCFunction)Folder_number_runs, METH_O,
     "number_runs(folded) -> folded with the Chinese digits of its number-like runs mapped to ASCII digits."},
    {NULL},
};

static PyTypeObject FolderType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "keywords._fold.Folder",
    .tp_doc = PyDoc_STR("Folder(fold, length, removed, traditional, chinese_digits, digit_values, separators)"),
    .tp_basicsize = sizeof(Folder),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Folder_init,
    .tp_dealloc = (destructor)Folder_dealloc,
    .tp_methods = Folder_methods,
};

static PyObject *
digit_chains(PyObject *module, PyObject *args)
{
    PyObject *text;
    Py_ssize_t min_digits, max_gap;
    if (!PyArg_ParseTuple(args, "Unn", &text, &min_digits, &max_gap))
        return NULL;
    PyObject *out = PyList_New(0);
    if (out == NULL)
        return NULL;
    const Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    const int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t first = -1, last = -1, count = 0;
    for (Py_ssize_t i = 0; i <= n; i++) {
        int digit = 0;
        if (i < n) {
            Py_UCS4 ch = PyUnicode_READ(kind, data, i);
            digit = ch >= '0' && ch <= '9';
            if (!digit)
                continue;
            if (first >= 0 && i - last - 1 <= max_gap) {
                last = i;
                count++;
                continue;
            }
        }
        /* a new chain starts here (or the text ends): report the one that ends */
        if (first >= 0 && count >= min_digits) {
            PyObject *span = Py_BuildValue("(nn)", first, last + 1);
            if (span == NULL || PyList_Append(out, span) < 0) {
                Py_XDECREF(span);
                Py_DECREF(out);
                return NULL;
            }
            Py_DECREF(span);
        }
        first = last = i;
        count = 1;
    }
    return out;
}

static PyObject *
char_positions(PyObject *module, PyObject *args)
{
    PyObject *text, *chars;
    if (!PyArg_ParseTuple(args, "UU", &text, &chars))
        return NULL;
    uint8_t wanted[0x10000 / 8];
    memset(wanted, 0, sizeof(wanted));
    for (Py_ssize_t i = 0; i < PyUnicode_GET_LENGTH(chars); i++) {
        Py_UCS4 ch = PyUnicode_READ_CHAR(chars, i);
        if (ch >= 0x10000) {
            PyErr_SetString(PyExc_ValueError, "chars must be in the BMP");
            return NULL;
        }
        wanted[ch >> 3] |= (uint8_t)(1u << (ch & 7));
    }
    PyObject *out = PyList_New(0);
    if (out == NULL)
        return NULL;
    const Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    const int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 ch = PyUnicode_READ(kind, data, i);
        if (ch < 0x10000 && (wanted[ch >> 3] >> (ch & 7)) & 1) {
            PyObject *index = PyLong_FromSsize_t(i);
            if (index == NULL || PyList_Append(out, index) < 0) {
                Py_XDECREF(index);
                Py_DECREF(out);
                return NULL;
            }
            Py_DECREF(index);
        }
    }
    return out;
}

static PyMethodDef module_methods[] = {
    {"char_positions", char_positions, METH_VARARGS,
     "char_positions(text, chars) -> the index of every character of text that is one of chars (BMP only)."},
    {"digit_chains", digit_chains, METH_VARARGS,
     "digit_chains(text, min_digits, max_gap) -> [(start, end)] of the maximal chains of ASCII digits with at "
     "most max_gap other characters between neighbours and at least min_digits digits."},
    {NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "keywords._fold",
    .m_doc = PyDoc_STR("The per-character passes of keywords.normalisation (and keywords.contacts), compiled."),
    .m_size = -1,
    .m_methods = module_methods,
};

PyMODINIT_FUNC
PyInit__fold(void)
{
    if (PyType_Ready(&FolderType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    Py_INCREF(&FolderType);
    if (PyModule_AddObject(m, "Folder", (PyObject *)&FolderType) < 0) {
        Py_DECREF(&FolderType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
