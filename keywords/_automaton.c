/* keywords._automaton: a dense Aho-Corasick automaton (a DFA) over the UTF-8 bytes of a str, for
 * keywords.matcher's skeleton scan.
 *
 * pyahocorasick follows a node's children by search and its failure links at run time; this automaton resolves
 * every failure link once, when it is built, into a full transition table (one row per trie node, one column
 * per byte class), so the scan costs one table load per byte. Bytes that occur in no key share one class,
 * which keeps the table small: a lexicon of a few thousand Chinese terms needs a few megabytes. The scan reads
 * the str's own storage (Latin-1, UCS-2 or UCS-4), encodes each character to UTF-8 on the fly (lone surrogates
 * as three bytes, like Python's "surrogatepass") and reports character indices, so nothing is copied.
 *
 * Matches are reported as pyahocorasick's Automaton.iter reports them: in order of their last character and,
 * at one position, longest key first.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

typedef struct {
    PyObject_HEAD
    int32_t *delta;    /* states * classes transitions */
    int32_t *word;     /* per state: index of the key ending here, or -1 */
    int32_t *link;     /* per state: the next shorter suffix state that ends a key, or -1 */
    Py_ssize_t states;
    int classes;
    uint8_t byte_class[256];
    PyObject *values;  /* list: value of key i */
} ByteAutomaton;

static void
ByteAutomaton_dealloc(ByteAutomaton *self)
{
    PyMem_Free(self->delta);
    PyMem_Free(self->word);
    PyMem_Free(self->link);
    Py_XDECREF(self->values);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* ByteAutomaton(keys: list[bytes], values: list): key i reports values[i]; keys must be distinct, non-empty
 * and valid UTF-8 (each match must end on a character boundary). */
static int
ByteAutomaton_init(ByteAutomaton *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"keys", "values", NULL};
    PyObject *keys, *values;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!O!", kwlist, &PyList_Type, &keys, &PyList_Type, &values))
        return -1;
    Py_ssize_t count = PyList_GET_SIZE(keys);
    if (PyList_GET_SIZE(values) != count) {
        PyErr_SetString(PyExc_ValueError, "keys and values differ in length");
        return -1;
    }
    if (self->delta != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "ByteAutomaton is already built");
        return -1;
    }
    if (count >= INT32_MAX) {
        PyErr_SetString(PyExc_OverflowError, "too many keys");
        return -1;
    }

    /* Byte classes: class 0 for bytes in no key, then one per byte value that occurs. */
    uint8_t seen[256] = {0};
    Py_ssize_t total = 1;
    for (Py_ssize_t k = 0; k < count; k++) {
        PyObject *key = PyList_GET_ITEM(keys, k);
        if (!PyBytes_Check(key) || PyBytes_GET_SIZE(key) == 0) {
            PyErr_SetString(PyExc_TypeError, "keys must be non-empty bytes");
            return -1;
        }
        const uint8_t *s = (const uint8_t *)PyBytes_AS_STRING(key);
        for (Py_ssize_t i = 0; i < PyBytes_GET_SIZE(key); i++)
            seen[s[i]] = 1;
        total += PyBytes_GET_SIZE(key);
    }
    int classes = 1;
    for (int b = 0; b < 256; b++)
        self->byte_class[b] = seen[b] ? (uint8_t)classes++ : 0;
    if (total >= INT32_MAX / classes) {
        PyErr_SetString(PyExc_OverflowError, "automaton too large");
        return -1;
    }
    self->classes = classes;

    /* The trie: at most one state per key byte plus the root; missing transitions are -1 for now. */
    int32_t *delta = PyMem_Malloc(sizeof(int32_t) * (size_t)total * (size_t)classes);
    int32_t *word = PyMem_Malloc(sizeof(int32_t) * (size_t)total);
    int32_t *link = PyMem_Malloc(sizeof(int32_t) * (size_t)total);
    int32_t *fail = PyMem_Malloc(sizeof(int32_t) * (size_t)total);
    int32_t *queue = PyMem_Malloc(sizeof(int32_t) * (size_t)total);
    if (!delta || !word || !link || !fail || !queue) {
        PyMem_Free(delta); PyMem_Free(word); PyMem_Free(link); PyMem_Free(fail); PyMem_Free(queue);
        PyErr_NoMemory();
        return -1;
    }
    memset(delta, 0xff, sizeof(int32_t) * (size_t)total * (size_t)classes);
    memset(word, 0xff, sizeof(int32_t) * (size_t)total);
    int32_t states = 1;
    for (Py_ssize_t k = 0; k < count; k++) {
        PyObject *key = PyList_GET_ITEM(keys, k);
        const uint8_t *s = (const uint8_t *)PyBytes_AS_STRING(key);
        int32_t state = 0;
        for (Py_ssize_t i = 0; i < PyBytes_GET_SIZE(key); i++) {
            int32_t *next = &delta[(size_t)state * classes + self->byte_class[s[i]]];
            if (*next < 0)
                *next = states++;
            state = *next;
        }
        word[state] = (int32_t)k;
    }

    /* Breadth first: failure links, output links, and every missing transition resolved through the failure
     * link (whose row is complete already, being shallower). */
    Py_ssize_t head = 0, tail = 0;
    fail[0] = 0;
    link[0] = -1;
    for (int c = 0; c < classes; c++) {
        int32_t child = delta[c];
        if (child < 0) {
            delta[c] = 0;
        } else {
            fail[child] = 0;
            link[child] = -1;
            queue[tail++] = child;
        }
    }
    while (head < tail) {
        int32_t state = queue[head++];
        int32_t *row = &delta[(size_t)state * classes];
        const int32_t *fail_row = &delta[(size_t)fail[state] * classes];
        for (int c = 0; c < classes; c++) {
            int32_t child = row[c];
            if (child < 0) {
                row[c] = fail_row[c];
            } else {
                int32_t f = fail_row[c];
                fail[child] = f;
                link[child] = word[f] >= 0 ? f : link[f];
                queue[tail++] = child;
            }
        }
    }
    PyMem_Free(fail);
    PyMem_Free(queue);
    /* Give back the rows of states that were never created (keys sharing prefixes). */
    int32_t *shrunk = PyMem_Realloc(delta, sizeof(int32_t) * (size_t)states * (size_t)classes);
    self->delta = shrunk ? shrunk : delta;
    self->word = word;
    self->link = link;
    self->states = states;
    Py_INCREF(values);
    self->values = values;
    return 0;
}

/* Append (index, values[key]) for every key ending in the current state; 0 on success. */
static inline int
emit(ByteAutomaton *self, PyObject *out, int32_t state, Py_ssize_t index)
{
    int32_t s = self->word[state] >= 0 ? state : self->link[state];
    while (s >= 0) {
        PyObject *pair = Py_BuildValue("(nO)", index, PyList_GET_ITEM(self->values, self->word[s]));
        if (pair == NULL)
            return -1;
        int failed = PyList_Append(out, pair);
        Py_DECREF(pair);
        if (failed)
            return -1;
        s = self->link[s];
    }
    return 0;
}

#define STEP(b) (state = delta[(size_t)state * classes + byte_class[(b)]])

static PyObject *
scan(ByteAutomaton *self, PyObject *text, int first_only)
{
    if (!PyUnicode_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "text must be a str");
        return NULL;
    }
    if (self->delta == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "ByteAutomaton is not built");
        return NULL;
    }
    PyObject *out = PyList_New(0);
    if (out == NULL)
        return NULL;
    const int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    const Py_ssize_t length = PyUnicode_GET_LENGTH(text);
    const int32_t *delta = self->delta;
    const int32_t *word = self->word;
    const int32_t *link = self->link;
    const uint8_t *byte_class = self->byte_class;
    const size_t classes = (size_t)self->classes;
    int32_t state = 0;
    for (Py_ssize_t i = 0; i < length; i++) {
        Py_UCS4 ch = PyUnicode_READ(kind, data, i);
        if (ch < 0x80) {
            STEP(ch);
        } else if (ch < 0x800) {
            STEP(0xC0 | (ch >> 6));
            STEP(0x80 | (ch & 0x3F));
        } else if (ch < 0x10000) {
            STEP(0xE0 | (ch >> 12));
            STEP(0x80 | ((ch >> 6) & 0x3F));
            STEP(0x80 | (ch & 0x3F));
        } else {
            STEP(0xF0 | (ch >> 18));
            STEP(0x80 | ((ch >> 12) & 0x3F));
            STEP(0x80 | ((ch >> 6) & 0x3F));
            STEP(0x80 | (ch & 0x3F));
        }
        if (word[state] >= 0 || link[state] >= 0) {
            if (emit(self, out, state, i) < 0) {
                Py_DECREF(out);
                return NULL;
            }
            if (first_only)
                break;
        }
    }
    return out;
}

static PyObject *
ByteAutomaton_findall(ByteAutomaton *self, PyObject *text)
{
    return scan(self, text, 0);
}

static PyObject *
ByteAutomaton_first(ByteAutomaton *self, PyObject *text)
{
    PyObject *found = scan(self, text, 1);
    if (found == NULL)
        return NULL;
    if (PyList_GET_SIZE(found) == 0) {
        Py_DECREF(found);
        Py_RETURN_NONE;
    }
    PyObject *pair = PyList_GET_ITEM(found, 0);
    Py_INCREF(pair);
    Py_DECREF(found);
    return pair;
}

/* seen(text) -> bytes: one byte per key, 1 where the key occurs in text (the scan stops once all have). */
static PyObject *
ByteAutomaton_seen(ByteAutomaton *self, PyObject *text)
{
    if (!PyUnicode_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "text must be a str");
        return NULL;
    }
    if (self->delta == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "ByteAutomaton is not built");
        return NULL;
    }
    const Py_ssize_t keys = PyList_GET_SIZE(self->values);
    PyObject *out = PyBytes_FromStringAndSize(NULL, keys);
    if (out == NULL)
        return NULL;
    uint8_t *flags = (uint8_t *)PyBytes_AS_STRING(out);
    memset(flags, 0, (size_t)keys);
    Py_ssize_t missing = keys;
    const int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    const Py_ssize_t length = PyUnicode_GET_LENGTH(text);
    const int32_t *delta = self->delta;
    const int32_t *word = self->word;
    const int32_t *link = self->link;
    const uint8_t *byte_class = self->byte_class;
    const size_t classes = (size_t)self->classes;
    int32_t state = 0;
    for (Py_ssize_t i = 0; i < length && missing > 0; i++) {
        Py_UCS4 ch = PyUnicode_READ(kind, data, i);
        if (ch < 0x80) {
            STEP(ch);
        } else if (ch < 0x800) {
            STEP(0xC0 | (ch >> 6));
            STEP(0x80 | (ch & 0x3F));
        } else if (ch < 0x10000) {
            STEP(0xE0 | (ch >> 12));
            STEP(0x80 | ((ch >> 6) & 0x3F));
            STEP(0x80 | (ch & 0x3F));
        } else {
            STEP(0xF0 | (ch >> 18));
            STEP(0x80 | ((ch >> 12) & 0x3F));
            STEP(0x80 | ((ch >> 6) & 0x3F));
            STEP(0x80 | (ch & 0x3F));
        }
        for (int32_t s = word[state] >= 0 ? state : link[state]; s >= 0; s = link[s]) {
            if (!flags[word[s]]) {
                flags[word[s]] = 1;
                missing--;
            }
        }
    }
    return out;
}

static PyObject *
ByteAutomaton_table_bytes(ByteAutomaton *self, void *closure)
{
    return PyLong_FromSize_t(sizeof(int32_t) * (size_t)self->states * ((size_t)self->classes + 2));
}

static PyMethodDef ByteAutomaton_methods[] = {
    {"findall", (PyCFunction)ByteAutomaton_findall, METH_O,
     "findall(text) -> list of (index of the match's last character, value), in order of their ends, longest "
     "key first at one end."},
    {"first", (PyCFunction)ByteAutomaton_first, METH_O,
     "first(text) -> the first (index, value) findall would return, or None; stops scanning there."},
    {"seen", (PyCFunction)ByteAutomaton_seen, METH_O,
     "seen(text) -> bytes with one byte per key: 1 where the key occurs in text, else 0."},
    {NULL},
};

static PyGetSetDef ByteAutomaton_getset[] = {
    {"table_bytes", (getter)ByteAutomaton_table_bytes, NULL, "memory held by the transition tables", NULL},
    {NULL},
};

static PyTypeObject ByteAutomatonType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "keywords._automaton.ByteAutomaton",
    .tp_doc = PyDoc_STR("ByteAutomaton(keys: list[bytes], values: list): dense Aho-Corasick over UTF-8 bytes."),
    .tp_basicsize = sizeof(ByteAutomaton),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)ByteAutomaton_init,
    .tp_dealloc = (destructor)ByteAutomaton_dealloc,
    .tp_methods = ByteAutomaton_methods,
    .tp_getset = ByteAutomaton_getset,
};

static PyObject *
table_size(PyObject *module, PyObject *keys)
{
    /* Upper bound of the bytes a ByteAutomaton of ``keys`` (list of bytes) would hold, before building it. */
    if (!PyList_Check(keys)) {
        PyErr_SetString(PyExc_TypeError, "keys must be a list");
        return NULL;
    }
    uint8_t seen[256] = {0};
    size_t total = 1;
    for (Py_ssize_t k = 0; k < PyList_GET_SIZE(keys); k++) {
        PyObject *key = PyList_GET_ITEM(keys, k);
        if (!PyBytes_Check(key)) {
            PyErr_SetString(PyExc_TypeError, "keys must be bytes");
            return NULL;
        }
        const uint8_t *s = (const uint8_t *)PyBytes_AS_STRING(key);
        for (Py_ssize_t i = 0; i < PyBytes_GET_SIZE(key); i++)
            seen[s[i]] = 1;
        total += (size_t)PyBytes_GET_SIZE(key);
    }
    size_t classes = 1;
    for (int b = 0; b < 256; b++)
        classes += seen[b];
    return PyLong_FromSize_t(sizeof(int32_t) * total * (classes + 2));
}

static PyMethodDef module_methods[] = {
    {"table_size", table_size, METH_O,
     "table_size(keys) -> upper bound of the bytes a ByteAutomaton of these keys holds."},
    {NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "keywords._automaton",
    .m_doc = PyDoc_STR("Dense Aho-Corasick automaton over the UTF-8 bytes of a str (see keywords.matcher)."),
    .m_size = -1,
    .m_methods = module_methods,
};

PyMODINIT_FUNC
PyInit__automaton(void)
{
    if (PyType_Ready(&ByteAutomatonType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    Py_INCREF(&ByteAutomatonType);
    if (PyModule_AddObject(m, "ByteAutomaton", (PyObject *)&ByteAutomatonType) < 0) {
        Py_DECREF(&ByteAutomatonType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
